#![doc = include_str!("../README.md")]

mod aead;
mod blind_index;
mod data_key;
mod error;
mod field;
mod hex;
mod keyring;
mod master_key;
mod wrapped;

pub mod research;

pub use blind_index::blind_index;
pub use data_key::DataKey;
pub use error::VaultError;
pub use field::{field_aad, open, open_str, seal, seal_str};
pub use keyring::Keyring;
pub use master_key::{MasterKey, MasterKeyId};
pub use wrapped::WrappedKey;
