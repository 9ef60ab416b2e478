//! logwarden's integration tests, in one binary (one link of the library instead of one per
//! file): each module is a subject. The `aws` module needs the local AWS endpoint (moto) and
//! the Lambda runtime emulator that `scripts/test` starts, and runs with `--features
//! aws-tests`.

mod common;
/// The adversarial log lines the `adversarial` bench measures, and the generator of varied
/// values the tests share.
#[path = "../../benches/adversarial_shapes.rs"]
mod shapes;

mod attacks;
#[cfg(feature = "aws-tests")]
mod aws;
mod cloudtrail;
mod decode;
mod detectors;
mod events;
mod hostile;
mod intrusions;
mod metrics;
mod parse;
mod properties;
mod replay;
mod robustness;
mod structure;
mod suppress;
mod verify;
