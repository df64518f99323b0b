//! Stream a large demo portfolio and report its size and the time taken: `cargo run --release -p
//! coopfolio-demo --example stream [scale]`. Memory stays that of one copy of the plan.

use std::time::Instant;

use coopfolio_demo::{generate_activities_streaming, DemoOptions};

fn main() {
    let scale = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("the scale is a number"))
        .unwrap_or(10);
    let started = Instant::now();
    let mut activities = 0u64;
    let mut bytes = 0u64;
    generate_activities_streaming(&DemoOptions { seed: 2024, scale }, |activity, _| {
        activities += 1;
        bytes += activity.raw_xml.len() as u64;
    });
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "scale {scale}: {activities} activities, {:.1} MB of XML in {seconds:.2} s ({:.0} activities/s)",
        bytes as f64 / 1e6,
        activities as f64 / seconds
    );
}
