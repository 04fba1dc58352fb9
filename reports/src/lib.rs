//! Statistics, exports, charts and regression comparison over run.json.
