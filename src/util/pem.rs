//! PEM blocks, as certificates and keys are handed to tenantctl.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The base64 payload of the first PEM block with this label.
pub fn pem_block(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let body: String = pem[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(body).ok()
}
