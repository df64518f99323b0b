//! The home page's world map as server-rendered SVG: every country drawn in the Equal Earth
//! projection, coloured in a few classes by how many programmes and projects are active in it,
//! each country with programmes a link to the explorer filtered by that country.
//!
//! The shapes are `data/geo/countries.txt`, Natural Earth's 1:50m countries already simplified
//! and keyed by ISO 3166-1 alpha-2 (the script beside it made the file from the TopoJSON). It is
//! a plain list of rings in degrees rather than TopoJSON because the shared arcs only matter
//! while simplifying: once that is done, reading rings is a few lines of code, and the
//! projection stays here where it can change without regenerating the data. The rings are
//! parsed, projected and written as SVG path data once, on first use; a request only chooses
//! each country's class, link and title. Coordinates are whole units of the viewBox, written
//! relative to the previous point, so the whole world is a few tens of kilobytes.
//!
//! Colours come from the stylesheet through classes (`map-0` to `map-4`, `map-neutral`): the
//! Content-Security-Policy allows no inline style, and classes keep the palette in one place.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::OnceLock;

use coopfolio_core::country::Countries;
use coopfolio_store::figures::Count;
use serde::Serialize;

use crate::text::Catalog;

/// The viewBox is `0 0 WIDTH height`; the height follows from the latitudes shown.
pub const WIDTH: u32 = 1000;
/// The latitudes the map shows: the Arctic coasts down to the southern tip of the continents.
/// Antarctica is left out of the data, so nothing is cut.
const NORTH: f64 = 84.0;
const SOUTH: f64 = -60.0;
/// Below this size, in viewBox units, a country is drawn as a round marker instead of its shape,
/// so that small island states can be seen and selected.
const MARKER_BELOW: f64 = 4.0;
const MARKER_RADIUS: i64 = 3;
/// How many countries the text alternative lists.
const TABLE_ROWS: usize = 20;

/// The classes for countries with programmes, from the fewest to the most.
const CLASSES: [&str; 4] = ["map-1", "map-2", "map-3", "map-4"];
const CLASS_NONE: &str = "map-0";
const CLASS_NEUTRAL: &str = "map-neutral";

/// Everything the template needs to draw the map, its legend and its text alternative.
#[derive(Debug, Serialize)]
pub struct MapView {
    pub width: u32,
    pub height: u32,
    pub countries: Vec<CountryView>,
    pub legend: Vec<LegendEntry>,
    /// The countries with the most programmes and projects, most first.
    pub table: Vec<TableRow>,
    /// Countries with programmes and projects that the table leaves out.
    pub more: usize,
}

/// One country (or one neutral area) on the map.
#[derive(Debug, Serialize)]
pub struct CountryView {
    /// The ISO code, or None for an area drawn neutral.
    pub code: Option<&'static str>,
    pub class: String,
    /// The explorer filtered by this country, for countries with programmes and projects.
    pub href: Option<String>,
    /// The name and the count: the link's accessible name and the tooltip.
    pub title: Option<String>,
    pub path: &'static str,
}

/// One colour class of the legend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegendEntry {
    pub class: &'static str,
    /// The smallest and largest count the class holds (0 and 0 for "none").
    pub low: u64,
    pub high: u64,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct TableRow {
    pub rank: usize,
    pub name: String,
    pub href: String,
    pub count: u64,
}

/// The map for `counts` (programmes and projects per upper-case country code), labelled in the
/// language of `text`.
pub fn view(counts: &[Count], text: &Catalog) -> MapView {
    let lang = text.lang().code();
    let world = world();
    let legend = legend(counts, text);
    let by_code: HashMap<&str, u64> = counts
        .iter()
        .map(|count| (count.code.as_str(), count.count))
        .collect();
    let table_countries = Countries::bundled();
    let countries = world
        .shapes
        .iter()
        .map(|shape| {
            let Some(code) = shape.code else {
                return CountryView {
                    code: None,
                    class: CLASS_NEUTRAL.to_owned(),
                    href: None,
                    title: None,
                    path: &shape.path,
                };
            };
            let name = table_countries
                .get(code)
                .map_or(shape.name, |country| country.names.get(lang));
            let count = by_code.get(code).copied().unwrap_or(0);
            let mut class = class_for(&legend, count).to_owned();
            if shape.marker {
                class.push_str(" marker");
            }
            CountryView {
                code: Some(code),
                class,
                href: (count > 0).then(|| explorer_link(code)),
                title: Some(format!("{name}: {}", count_phrase(count, text))),
                path: &shape.path,
            }
        })
        .collect();
    let mut with_programmes: Vec<&Count> = counts.iter().filter(|count| count.count > 0).collect();
    with_programmes.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
    let table = with_programmes
        .iter()
        .take(TABLE_ROWS)
        .enumerate()
        .map(|(index, count)| TableRow {
            rank: index + 1,
            name: crate::format::country(&count.code, lang),
            href: explorer_link(&count.code),
            count: count.count,
        })
        .collect();
    MapView {
        width: WIDTH,
        height: world.height,
        countries,
        legend,
        table,
        more: with_programmes.len().saturating_sub(TABLE_ROWS),
    }
}

/// The legend: "none", then up to four classes whose upper bounds are the quartiles of the
/// counts above zero, so that each class holds about as many countries whatever the size of the
/// portfolio. Each upper bound is a count some country has, so no class is empty; together the
/// classes cover every count from 1 to the largest, without overlap.
pub fn legend(counts: &[Count], text: &Catalog) -> Vec<LegendEntry> {
    let mut positive: Vec<u64> = counts
        .iter()
        .map(|count| count.count)
        .filter(|&count| count > 0)
        .collect();
    positive.sort_unstable();
    let mut legend = vec![LegendEntry {
        class: CLASS_NONE,
        low: 0,
        high: 0,
        label: text.get("map_none").to_owned(),
    }];
    if positive.is_empty() {
        return legend;
    }
    let mut highs: Vec<u64> = Vec::new();
    for quarter in 1..=CLASSES.len() {
        let high = positive[(quarter * positive.len()).div_ceil(CLASSES.len()).max(1) - 1];
        if highs.last().is_none_or(|&last| high > last) {
            highs.push(high);
        }
    }
    for (index, &high) in highs.iter().enumerate() {
        let low = if index == 0 { 1 } else { highs[index - 1] + 1 };
        // With fewer classes than colours, the colours are spread over the whole palette so
        // that the classes stay easy to tell apart; a single class takes the darkest.
        let class = match highs.len() {
            1 => CLASSES[CLASSES.len() - 1],
            classes => CLASSES[index * (CLASSES.len() - 1) / (classes - 1)],
        };
        legend.push(LegendEntry {
            class,
            low,
            high,
            label: if low == high {
                low.to_string()
            } else {
                format!("{low}–{high}")
            },
        });
    }
    legend
}

/// Where a point of the globe lands in the viewBox, in Equal Earth (Šavrič, Patterson and
/// Jenny, 2018): an equal-area projection, so a country's colour covers as much of the map as
/// the country covers of the world.
pub fn to_view(longitude: f64, latitude: f64) -> (f64, f64) {
    let scale = scale();
    let (x, y) = equal_earth(longitude, latitude);
    let (_, top) = equal_earth(0.0, NORTH);
    (f64::from(WIDTH) / 2.0 + x * scale, (top - y) * scale)
}

/// The Equal Earth projection of a point in degrees, in the projection's own units: (0, 0) at
/// longitude 0 on the equator, y growing northwards.
pub fn equal_earth(longitude: f64, latitude: f64) -> (f64, f64) {
    const A1: f64 = 1.340264;
    const A2: f64 = -0.081106;
    const A3: f64 = 0.000893;
    const A4: f64 = 0.003796;
    let m = 3f64.sqrt() / 2.0;
    let lambda = longitude.to_radians();
    let theta = (m * latitude.to_radians().sin()).asin();
    let theta2 = theta * theta;
    let theta6 = theta2 * theta2 * theta2;
    let x = lambda * theta.cos()
        / (m * (A1 + 3.0 * A2 * theta2 + theta6 * (7.0 * A3 + 9.0 * A4 * theta2)));
    let y = theta * (A1 + A2 * theta2 + theta6 * (A3 + A4 * theta2));
    (x, y)
}

fn explorer_link(code: &str) -> String {
    format!("/projects?country={code}")
}

fn count_phrase(count: u64, text: &Catalog) -> String {
    match count {
        0 => text.get("map_count_none").to_owned(),
        1 => format!("1 {}", text.get("map_count_one")),
        _ => format!("{count} {}", text.get("map_count_many")),
    }
}

fn class_for(legend: &[LegendEntry], count: u64) -> &'static str {
    legend
        .iter()
        .find(|entry| entry.low <= count && count <= entry.high)
        .map_or(CLASS_NONE, |entry| entry.class)
}

/// Viewbox units per projection unit: the world's full width fills the viewBox.
fn scale() -> f64 {
    let (east, _) = equal_earth(180.0, 0.0);
    f64::from(WIDTH) / (2.0 * east)
}

/// The shapes, projected and written as path data once.
struct World {
    height: u32,
    shapes: Vec<Shape>,
}

struct Shape {
    code: Option<&'static str>,
    /// Natural Earth's English name, shown only when the country table lacks the code.
    name: &'static str,
    /// Drawn as a round marker: the real shape would be too small to see.
    marker: bool,
    path: String,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let (_, bottom) = to_view(0.0, SOUTH);
        World {
            height: bottom.ceil() as u32,
            shapes: parse(include_str!("../../../data/geo/countries.txt"))
                .into_iter()
                .map(|(code, name, rings)| {
                    let (path, marker) = path_data(&rings);
                    Shape {
                        code,
                        name,
                        marker,
                        path,
                    }
                })
                .collect(),
        }
    })
}

type Ring = Vec<(f64, f64)>;

/// Reads the shapes file: rings in degrees under each `country` line, shapes that share a code
/// (a country and one of its territories) merged into one. The file is part of the program
/// and a test reads it, so a line that does not parse is a defect that panics here.
fn parse(source: &'static str) -> Vec<(Option<&'static str>, &'static str, Vec<Ring>)> {
    let mut shapes: Vec<(Option<&'static str>, &'static str, Vec<Ring>)> = Vec::new();
    let mut current = None;
    for (index, line) in source.lines().enumerate() {
        let fault = || -> ! { panic!("data/geo/countries.txt line {}: {line}", index + 1) };
        if let Some(rest) = line.strip_prefix("country ") {
            let (code, name) = rest.split_once(' ').unwrap_or_else(|| fault());
            let code = (code != "--").then_some(code);
            let existing = shapes
                .iter()
                .position(|shape| code.is_some() && shape.0 == code);
            current = Some(existing.unwrap_or_else(|| {
                shapes.push((code, name, Vec::new()));
                shapes.len() - 1
            }));
        } else if let Some(rest) = line
            .strip_prefix("ring ")
            .or_else(|| line.strip_prefix("point "))
        {
            let ring = rest
                .split(' ')
                .map(|pair| {
                    let (longitude, latitude) = pair.split_once(',').unwrap_or_else(|| fault());
                    match (longitude.parse(), latitude.parse()) {
                        (Ok(longitude), Ok(latitude)) => (longitude, latitude),
                        _ => fault(),
                    }
                })
                .collect();
            shapes[current.unwrap_or_else(|| fault())].2.push(ring);
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            fault();
        }
    }
    shapes
}

/// The path data of a shape: each ring projected, rounded to whole units, repeated points
/// dropped, rings that shrink below a triangle dropped. A shape that ends up smaller than
/// [`MARKER_BELOW`] either way becomes a round marker at the centre of its largest ring.
fn path_data(rings: &[Ring]) -> (String, bool) {
    let mut path = String::new();
    let (mut left, mut top, mut right, mut bottom) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    let mut largest: Option<((f64, f64), f64)> = None;
    for ring in rings {
        let projected: Vec<(f64, f64)> = ring
            .iter()
            .map(|&(longitude, latitude)| to_view(longitude, latitude))
            .collect();
        let (ring_left, ring_top, ring_right, ring_bottom) = bounds(&projected);
        let extent = (ring_right - ring_left) * (ring_bottom - ring_top);
        if largest.is_none_or(|(_, area)| extent > area) {
            let centre = (
                (ring_left + ring_right) / 2.0,
                (ring_top + ring_bottom) / 2.0,
            );
            largest = Some((centre, extent));
        }
        let mut points: Vec<(i64, i64)> = Vec::with_capacity(projected.len());
        for &(x, y) in &projected {
            let point = (x.round() as i64, y.round() as i64);
            if points.last() != Some(&point) {
                points.push(point);
            }
        }
        // A closed ring repeats its first point last; `z` closes it instead.
        if points.len() > 1 && points.first() == points.last() {
            points.pop();
        }
        if points.len() < 3 {
            continue;
        }
        (left, top) = (left.min(ring_left), top.min(ring_top));
        (right, bottom) = (right.max(ring_right), bottom.max(ring_bottom));
        write_ring(&mut path, &points);
    }
    if path.is_empty() || (right - left < MARKER_BELOW && bottom - top < MARKER_BELOW) {
        let ((x, y), _) = largest.unwrap_or(((0.0, 0.0), 0.0));
        let (x, y) = (x.round() as i64, y.round() as i64);
        let r = MARKER_RADIUS;
        // Two half circles make the whole one: SVG arcs cannot start and end on one point.
        let marker = format!(
            "M{} {y}a{r} {r} 0 1 0 {} 0a{r} {r} 0 1 0 -{} 0z",
            x - r,
            2 * r,
            2 * r
        );
        return (marker, true);
    }
    (path, false)
}

fn bounds(points: &[(f64, f64)]) -> (f64, f64, f64, f64) {
    points.iter().fold(
        (f64::MAX, f64::MAX, f64::MIN, f64::MIN),
        |(left, top, right, bottom), &(x, y)| {
            (left.min(x), top.min(y), right.max(x), bottom.max(y))
        },
    )
}

/// Writes `M x y` and then each further point relative to the one before (`l dx dy ...`),
/// which keeps the numbers short; a minus sign separates numbers as well as a space does.
fn write_ring(path: &mut String, points: &[(i64, i64)]) {
    let (mut x, mut y) = points[0];
    let _ = write!(path, "M{x} {y}l");
    for (index, &(next_x, next_y)) in points[1..].iter().enumerate() {
        for (position, delta) in [next_x - x, next_y - y].into_iter().enumerate() {
            if (index > 0 || position > 0) && delta >= 0 {
                path.push(' ');
            }
            let _ = write!(path, "{delta}");
        }
        (x, y) = (next_x, next_y);
    }
    path.push('z');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{catalog, Lang};

    fn height() -> u32 {
        world().height
    }

    fn counts(pairs: &[(&str, u64)]) -> Vec<Count> {
        pairs
            .iter()
            .map(|&(code, count)| Count {
                code: code.to_owned(),
                count,
            })
            .collect()
    }

    #[test]
    fn the_origin_is_the_centre_of_the_projection() {
        assert_eq!(equal_earth(0.0, 0.0), (0.0, 0.0));
        let (x, _) = to_view(0.0, 0.0);
        assert!((x - f64::from(WIDTH) / 2.0).abs() < 1e-9);
        // The equator is nearer the top than the bottom: more land lies north of it.
        let (_, equator) = to_view(0.0, 0.0);
        assert!(equator > f64::from(height()) / 2.0 && equator < f64::from(height()));
    }

    #[test]
    fn the_antimeridian_and_the_shown_latitudes_touch_the_edges() {
        let (west, _) = to_view(-180.0, 0.0);
        let (east, _) = to_view(180.0, 0.0);
        assert!(west.abs() < 1e-9 && (east - f64::from(WIDTH)).abs() < 1e-9);
        assert!(to_view(0.0, NORTH).1.abs() < 1e-9);
        assert!((to_view(0.0, SOUTH).1 - f64::from(height())).abs() < 1.0);
        // Equal Earth is about twice as wide as high for the whole globe.
        let (_, pole) = equal_earth(0.0, 90.0);
        let (edge, _) = equal_earth(180.0, 0.0);
        assert!((edge / pole - 2.05).abs() < 0.01, "{}", edge / pole);
    }

    #[test]
    fn known_places_land_where_they_should() {
        let inside = |(x, y): (f64, f64)| {
            x >= 0.0 && x <= f64::from(WIDTH) && y >= 0.0 && y <= f64::from(height())
        };
        // Nairobi, Lima, Dhaka, Oslo and Wellington are all on the map ...
        let nairobi = to_view(36.8, -1.3);
        let lima = to_view(-77.0, -12.0);
        let dhaka = to_view(90.4, 23.8);
        let oslo = to_view(10.7, 59.9);
        let wellington = to_view(174.8, -41.3);
        for place in [nairobi, lima, dhaka, oslo, wellington] {
            assert!(inside(place), "{place:?}");
        }
        // ... west of east and north above south.
        assert!(lima.0 < nairobi.0 && nairobi.0 < dhaka.0 && dhaka.0 < wellington.0);
        assert!(oslo.1 < dhaka.1 && dhaka.1 < nairobi.1 && nairobi.1 < wellington.1);
        // Meridians bend towards the poles: 60° east lies nearer the centre at 60° north.
        assert!(to_view(60.0, 60.0).0 < to_view(60.0, 0.0).0);
    }

    #[test]
    fn every_country_of_the_data_has_a_path_and_the_odd_codes_are_mapped() {
        let world = world();
        let codes: Vec<&str> = world.shapes.iter().filter_map(|shape| shape.code).collect();
        // Natural Earth gives France and Norway -99 as ISO_A2 and Kosovo no code at all.
        for code in ["FR", "NO", "XK", "KE", "BR", "TV", "NR"] {
            assert!(codes.contains(&code), "no shape for {code}");
        }
        assert!(!codes.contains(&"AQ"));
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), codes.len(), "a code drawn twice");
        for shape in &world.shapes {
            assert!(shape.path.starts_with('M') && shape.path.ends_with('z'));
            if let Some(code) = shape.code {
                assert!(Countries::bundled().get(code).is_some(), "{code} unknown");
            }
        }
        // Tuvalu is a few specks of coral, so a marker; Brazil is its own shape.
        let marker = |code: &str| {
            world
                .shapes
                .iter()
                .find(|shape| shape.code == Some(code))
                .map(|shape| shape.marker)
        };
        assert_eq!(marker("TV"), Some(true));
        assert_eq!(marker("BR"), Some(false));
    }

    #[test]
    fn path_data_is_relative_and_whole() {
        let mut path = String::new();
        write_ring(&mut path, &[(10, 20), (13, 18), (9, 18)]);
        assert_eq!(path, "M10 20l3-2-4 0z");
    }

    #[test]
    fn the_legend_covers_every_count_once() {
        let text = catalog(Lang::En);
        let data = counts(&[
            ("KE", 1),
            ("TZ", 2),
            ("UG", 2),
            ("BD", 5),
            ("NP", 9),
            ("PE", 14),
            ("BR", 30),
            ("IN", 41),
        ]);
        let legend = legend(&data, text);
        assert_eq!(legend[0].class, CLASS_NONE);
        assert_eq!(legend.last().map(|entry| entry.high), Some(41));
        for count in 0..=41 {
            let holding = legend
                .iter()
                .filter(|entry| entry.low <= count && count <= entry.high)
                .count();
            assert_eq!(holding, 1, "count {count}");
        }
        // Every class but "none" holds at least one country.
        for entry in &legend[1..] {
            assert!(data
                .iter()
                .any(|c| entry.low <= c.count && c.count <= entry.high));
        }
    }

    #[test]
    fn a_portfolio_with_one_count_has_one_class_and_an_empty_one_only_none() {
        let text = catalog(Lang::En);
        let one = legend(&counts(&[("KE", 3), ("TZ", 3)]), text);
        assert_eq!(one.len(), 2);
        assert_eq!((one[1].low, one[1].high), (1, 3));
        assert_eq!(legend(&[], text).len(), 1);
    }

    #[test]
    fn countries_with_programmes_link_to_the_explorer() {
        let text = catalog(Lang::En);
        let view = view(&counts(&[("KE", 12), ("FR", 1)]), text);
        let kenya = view
            .countries
            .iter()
            .find(|country| country.code == Some("KE"))
            .expect("Kenya is drawn");
        assert_eq!(kenya.href.as_deref(), Some("/projects?country=KE"));
        assert_eq!(
            kenya.title.as_deref(),
            Some("Kenya: 12 programmes and projects active")
        );
        let chile = view
            .countries
            .iter()
            .find(|country| country.code == Some("CL"))
            .expect("Chile is drawn");
        assert_eq!(chile.href, None);
        assert_eq!(chile.class, CLASS_NONE);
        assert_eq!(view.table[0].name, "Kenya");
        assert_eq!(view.table.len(), 2);
    }
}
