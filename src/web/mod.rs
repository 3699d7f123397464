//! The browser edge: HTTP, storage, downloads.
