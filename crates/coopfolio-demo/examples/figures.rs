//! Print the calibrated figures of a demo workspace: `cargo run -p coopfolio-demo --example figures
//! [seed]`. Handy when changing the generator, and the numbers a reader of the portal will see.

use coopfolio_core::period::Period;
use coopfolio_demo::figures::{
    approved_voluntary_usd, contributor_ranking, countries_reached, is_active_in,
};
use coopfolio_demo::{generate, DemoOptions};

fn main() {
    let seed = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("the seed is a number"))
        .unwrap_or(2024);
    let workspace = generate(&DemoOptions { seed, scale: 1 });
    println!(
        "seed {seed}: {} partners, {} agreements, {} activities, {} partnerships, {} inquiries",
        workspace.partners.len(),
        workspace.agreements.len(),
        workspace.activities.len(),
        workspace.partnerships.len(),
        workspace.inquiries.len()
    );
    for first_year in [2016, 2018, 2020, 2022, 2024] {
        let period = Period::Biennium(first_year);
        let (total, unconverted) = approved_voluntary_usd(&workspace.agreements, period);
        let active = workspace
            .activities
            .iter()
            .filter(|a| is_active_in(a, period))
            .count();
        let countries = countries_reached(&workspace.activities, period).len();
        println!(
            "{first_year}-{:02}: approved voluntary US${total} ({} unconverted), {active} active, {countries} countries",
            (first_year + 1) % 100,
            unconverted.len()
        );
    }
    let ranking = contributor_ranking(
        &workspace.partners,
        &workspace.agreements,
        Period::Biennium(2022),
    );
    println!("2022-23 contributors:");
    for (rank, contributor) in ranking.iter().take(10).enumerate() {
        println!(
            "{:>3}. {:<90} US${}",
            rank + 1,
            contributor.names.en,
            contributor.usd
        );
    }
    let extras = &workspace.project_extras;
    let share = |count: usize| count as f64 * 100.0 / extras.len() as f64;
    println!(
        "markers: south-south {:.1}%, triangular {:.1}%, joint UN {:.1}%, MPTF {:.1}%",
        share(extras.iter().filter(|e| e.markers.south_south).count()),
        share(extras.iter().filter(|e| e.markers.triangular).count()),
        share(extras.iter().filter(|e| e.markers.joint_un).count()),
        share(extras.iter().filter(|e| e.markers.mptf).count()),
    );
}
