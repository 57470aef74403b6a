//! The awsranges test suite: the service rule on hand-made prefix sets,
//! errors, and a differential test of the interval lookup against a linear
//! scan over AWS's real ip-ranges.json (from `../shared/data/aws`).

mod differential;
mod rule;
