//! Bar charts as server-rendered SVG: the geometry is computed here, the markup is written by
//! the template (escaped like all text), and colours come from the stylesheet, so a chart needs
//! neither script nor inline style.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::format;

/// A vertical bar chart sized for the viewBox `0 0 width height`.
#[derive(Debug, Serialize)]
pub struct BarChart {
    pub width: u32,
    pub height: u32,
    /// The y of the baseline the bars stand on.
    pub baseline: u32,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Serialize)]
pub struct Bar {
    pub label: String,
    /// The value as the page writes it ("965.1").
    pub value: String,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    /// Where the label and the value are centred.
    pub centre: u32,
}

const WIDTH: u32 = 640;
const HEIGHT: u32 = 260;
/// Room above the tallest bar for its value, and below the baseline for the labels.
const TOP: u32 = 24;
const BOTTOM: u32 = 28;

/// One bar per `(label, amount in US dollars)`, in the order given, heights in proportion to
/// the largest amount.
pub fn bars(values: &[(String, Decimal)]) -> BarChart {
    let baseline = HEIGHT - BOTTOM;
    let room = baseline - TOP;
    let largest = values
        .iter()
        .map(|(_, usd)| *usd)
        .max()
        .unwrap_or(Decimal::ZERO);
    let slot = WIDTH / (values.len().max(1) as u32);
    let bar_width = slot * 3 / 5;
    let bars = values
        .iter()
        .enumerate()
        .map(|(index, (label, usd))| {
            // Heights are pixels, so a float is fine here: no money is computed with it.
            let share = if largest > Decimal::ZERO {
                (usd / largest).to_f64().unwrap_or(0.0).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let height = (share * f64::from(room)).round() as u32;
            let x = slot * index as u32 + (slot - bar_width) / 2;
            Bar {
                label: label.clone(),
                value: format::millions(*usd),
                x,
                y: baseline - height,
                width: bar_width,
                height,
                centre: x + bar_width / 2,
            }
        })
        .collect();
    BarChart {
        width: WIDTH,
        height: HEIGHT,
        baseline,
        bars,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_bar_fills_the_room_and_the_others_are_in_proportion() {
        let chart = bars(&[
            ("2020-21".to_owned(), Decimal::new(500, 0)),
            ("2022-23".to_owned(), Decimal::new(1000, 0)),
        ]);
        assert_eq!(chart.bars[1].height, HEIGHT - BOTTOM - TOP);
        assert_eq!(chart.bars[0].height, (HEIGHT - BOTTOM - TOP) / 2);
        assert_eq!(chart.bars[0].y + chart.bars[0].height, chart.baseline);
    }
}
