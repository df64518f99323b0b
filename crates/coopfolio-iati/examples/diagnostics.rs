//! Prints every diagnostic the reader gives for the IATI files named on the command line.
//!
//! `cargo run -p coopfolio-iati --example diagnostics -- FILE...`; the exit status is 1 when
//! a file was unusable.

use coopfolio_core::codelists::Codelists;
use coopfolio_iati::IatiReader;

fn main() {
    let codelists = Codelists::bundled();
    let mut any_fatal = false;
    for path in std::env::args().skip(1) {
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(error) => {
                eprintln!("{path}: {error}");
                any_fatal = true;
                continue;
            }
        };
        let mut reader = IatiReader::new(
            std::io::BufReader::new(file),
            path.as_str(),
            codelists.clone(),
        );
        let mut diagnostics = Vec::new();
        let mut records = 0;
        loop {
            match reader.next_record(&mut diagnostics) {
                Ok(Some(_)) => records += 1,
                Ok(None) => break,
                Err(fatal) => {
                    diagnostics.push(fatal);
                    any_fatal = true;
                    break;
                }
            }
        }
        for diagnostic in &diagnostics {
            println!("{diagnostic}");
        }
        eprintln!(
            "{path}: {records} records, {} diagnostics",
            diagnostics.len()
        );
    }
    std::process::exit(i32::from(any_fatal));
}
