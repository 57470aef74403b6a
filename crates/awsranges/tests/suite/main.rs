//! The awsranges test suite: the service rule on hand-made prefix sets,
//! errors, and differential tests of the interval lookup against an
//! independent linear scan ([`naive`]) on random prefix sets and on AWS's
//! real ip-ranges.json files (from `<shared>/data/aws`).

mod differential;
mod errors;
mod naive;
mod random;
mod rule;
mod support;
