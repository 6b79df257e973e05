//! Integration tests of the index client against a small HTTP server on 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod auth;
mod metadata;
mod pages;
mod support;
mod zip_members;
