//! What lockdrop prints for a person or a tool: `--check` (the plan and its
//! findings) and `--doctor` (the host view), as text or JSON. Decides
//! nothing.
pub mod check;
pub mod doctor;
pub mod json;
