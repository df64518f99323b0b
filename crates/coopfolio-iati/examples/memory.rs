//! Shows that the reader's memory does not grow with the document: it reads a generated
//! document of any size (one real activity repeated) and prints the peak resident memory.
//!
//! `cargo run --release -p coopfolio-iati --example memory [MEGABYTES]` (default 1000).

use std::io::Read;

use coopfolio_core::codelists::Codelists;
use coopfolio_iati::IatiReader;

/// A document made on the fly: a root, then the same activity again and again.
struct Generated {
    activity: Vec<u8>,
    remaining: usize,
    stage: usize,
    position: usize,
}

impl Read for Generated {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let part: &[u8] = match self.stage {
            0 => b"<iati-activities version=\"2.03\">\n",
            1 => &self.activity,
            2 => b"</iati-activities>\n",
            _ => return Ok(0),
        };
        let amount = (part.len() - self.position).min(buffer.len());
        buffer[..amount].copy_from_slice(&part[self.position..self.position + amount]);
        self.position += amount;
        if self.position == part.len() {
            self.position = 0;
            if self.stage == 1 && self.remaining > 1 {
                self.remaining -= 1;
            } else {
                self.stage += 1;
            }
        }
        Ok(amount)
    }
}

fn peak_resident_kilobytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let megabytes: usize = std::env::args()
        .nth(1)
        .and_then(|argument| argument.parse().ok())
        .unwrap_or(1000);
    let activity = br#"<iati-activity default-currency="USD" xml:lang="en"><iati-identifier>XM-DAC-41302-1</iati-identifier><title><narrative>Decent work for all</narrative></title><participating-org ref="GB-GOV-1" role="1" type="10"/><activity-status code="2"/><recipient-country code="KE" percentage="100"/><sector code="16020" percentage="100"/><budget type="1" status="1"><period-start iso-date="2020-01-01"/><period-end iso-date="2020-12-31"/><value value-date="2020-01-01">100000</value></budget><transaction><transaction-type code="3"/><transaction-date iso-date="2020-03-01"/><value value-date="2020-03-01">2500</value></transaction></iati-activity>
"#
    .to_vec();
    let copies = megabytes * 1_000_000 / activity.len();
    let source = Generated {
        activity,
        remaining: copies,
        stage: 0,
        position: 0,
    };
    let mut reader = IatiReader::new(
        std::io::BufReader::new(source),
        "generated.xml",
        Codelists::bundled(),
    );
    let mut diagnostics = Vec::new();
    let mut records = 0u64;
    while let Some(_record) = reader
        .next_record(&mut diagnostics)
        .expect("the document is well-formed")
    {
        records += 1;
        diagnostics.clear();
    }
    println!(
        "{records} activities, {:.0} MB read, peak resident memory {} kB",
        reader.bytes_read() as f64 / 1e6,
        peak_resident_kilobytes().map_or("unknown".to_string(), |kilobytes| kilobytes.to_string())
    );
}
