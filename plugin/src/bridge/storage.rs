//! The host's storage, reached over the brokered connection (`pb.Storage`).

use async_trait::async_trait;
use tonic::transport::Channel;
use zeroize::Zeroizing;

use crate::logical::{Storage, StorageError, StorageValue};
use crate::pb::vault::storage_client::StorageClient;
use crate::pb::vault::{
    StorageDeleteArgs, StorageEntry, StorageGetArgs, StorageListArgs, StoragePutArgs,
};

#[derive(Clone)]
pub struct GrpcStorage {
    client: StorageClient<Channel>,
}

impl GrpcStorage {
    pub fn new(channel: Channel) -> Self {
        let client = StorageClient::new(channel)
            .max_decoding_message_size(crate::serve::MAX_MESSAGE_SIZE)
            .max_encoding_message_size(crate::serve::MAX_MESSAGE_SIZE);
        Self { client }
    }
}

fn transport(status: tonic::Status) -> StorageError {
    StorageError(status.message().to_string())
}

fn host(err: String) -> Result<(), StorageError> {
    if err.is_empty() {
        Ok(())
    } else {
        Err(StorageError(err))
    }
}

#[async_trait]
impl Storage for GrpcStorage {
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let reply = self
            .client
            .clone()
            .list(StorageListArgs {
                prefix: prefix.to_string(),
                ..Default::default()
            })
            .await
            .map_err(transport)?
            .into_inner();
        host(reply.err)?;
        Ok(reply.keys)
    }

    async fn get(&self, key: &str) -> Result<Option<StorageValue>, StorageError> {
        let reply = self
            .client
            .clone()
            .get(StorageGetArgs {
                key: key.to_string(),
                ..Default::default()
            })
            .await
            .map_err(transport)?
            .into_inner();
        host(reply.err)?;
        Ok(reply
            .entry
            .map(|mut e| Zeroizing::new(std::mem::take(&mut e.value))))
    }

    async fn put(&self, key: &str, mut value: StorageValue) -> Result<(), StorageError> {
        let reply = self
            .client
            .clone()
            .put(StoragePutArgs {
                entry: Some(StorageEntry {
                    key: key.to_string(),
                    // Moved, not copied: one less unzeroized copy of the entry.
                    value: std::mem::take(&mut *value),
                    seal_wrap: false,
                }),
                ..Default::default()
            })
            .await
            .map_err(transport)?
            .into_inner();
        host(reply.err)
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let reply = self
            .client
            .clone()
            .delete(StorageDeleteArgs {
                key: key.to_string(),
                ..Default::default()
            })
            .await
            .map_err(transport)?
            .into_inner();
        host(reply.err)
    }
}
