//! The host's identity store, reached through its system view
//! (`SystemView/EntityInfo`, `SystemView/GroupsForEntity`).

use async_trait::async_trait;
use tonic::transport::Channel;

use crate::logical::{Identity, StorageError};
use crate::pb::vault::EntityInfoArgs;
use crate::pb::vault::system_view_client::SystemViewClient;

#[derive(Clone)]
pub struct SystemViewIdentity {
    client: SystemViewClient<Channel>,
}

impl SystemViewIdentity {
    pub fn new(client: SystemViewClient<Channel>) -> Self {
        Self { client }
    }
}

fn transport(status: tonic::Status) -> StorageError {
    StorageError(status.message().to_string())
}

#[async_trait]
impl Identity for SystemViewIdentity {
    async fn entity_name(&self, entity_id: &str) -> Result<Option<String>, StorageError> {
        if entity_id.is_empty() {
            return Ok(None);
        }
        let reply = self
            .client
            .clone()
            .entity_info(EntityInfoArgs {
                entity_id: entity_id.to_string(),
            })
            .await
            .map_err(transport)?
            .into_inner();
        if !reply.err.is_empty() {
            return Err(StorageError(reply.err));
        }
        Ok(reply.entity.map(|e| e.name))
    }

    async fn group_names(&self, entity_id: &str) -> Result<Vec<String>, StorageError> {
        if entity_id.is_empty() {
            return Ok(Vec::new());
        }
        let reply = self
            .client
            .clone()
            .groups_for_entity(EntityInfoArgs {
                entity_id: entity_id.to_string(),
            })
            .await
            .map_err(transport)?
            .into_inner();
        if !reply.err.is_empty() {
            return Err(StorageError(reply.err));
        }
        Ok(reply.groups.into_iter().map(|g| g.name).collect())
    }
}
