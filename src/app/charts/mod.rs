//! The charts' arithmetic, apart from their drawing in `ui::charts`.

pub mod scale;
