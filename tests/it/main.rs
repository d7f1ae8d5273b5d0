//! fenci's integration tests: one test binary, one file per topic.
mod util;

mod bad_input;
mod calibration;
mod cli;
mod corrections;
mod data_safety;
mod default_model;
mod e2e;
mod fused;
mod generate;
mod hf_tokens;
mod hub;
mod jsonl;
mod judge;
mod layers;
mod model;
mod pos;
mod reliability;
mod review;
mod segment_props;
mod train;
mod tui;
mod tui_review;
mod word_features;
