//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds the migrations at
//! compile time, and Cargo does not otherwise look into the folder.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
