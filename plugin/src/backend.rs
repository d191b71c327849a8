//! Placeholder backend used while the path framework lands (replaced by the
//! ordered path list of the `crypto/` engine).

use std::sync::Arc;

use async_trait::async_trait;

use crate::logical::{
    Backend, BackendConfig, ExistenceCheck, LogicalError, Request, Response, SpecialPaths, Storage,
};

pub struct CryptoBackend;

pub fn new(_config: BackendConfig) -> Arc<dyn Backend> {
    Arc::new(CryptoBackend)
}

#[async_trait]
impl Backend for CryptoBackend {
    async fn handle_request(&self, _req: Request) -> Result<Option<Response>, LogicalError> {
        Err(LogicalError::UnsupportedPath)
    }
    async fn existence_check(&self, _req: Request) -> Result<ExistenceCheck, LogicalError> {
        Ok(ExistenceCheck {
            check_found: false,
            exists: false,
        })
    }
    fn special_paths(&self) -> SpecialPaths {
        SpecialPaths::default()
    }
    async fn initialize(&self, _storage: Arc<dyn Storage>) -> Result<(), LogicalError> {
        Ok(())
    }
    async fn invalidate(&self, _key: &str) {}
    async fn cleanup(&self) {}
}
