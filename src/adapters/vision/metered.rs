//! Times every model call and counts its tokens, whatever the provider.
use std::sync::Arc;
use std::time::Instant;

use altframe_domain::generation::Language;

use super::{VisionError, VisionOutput, VisionProvider, VisionRequest};
use crate::adapters::metrics::Metrics;

pub struct MeteredVision {
    inner: Arc<dyn VisionProvider>,
    metrics: Arc<Metrics>,
}

impl MeteredVision {
    pub fn wrap(inner: Arc<dyn VisionProvider>, metrics: Arc<Metrics>) -> Arc<dyn VisionProvider> {
        Arc::new(MeteredVision { inner, metrics })
    }
}

#[async_trait::async_trait]
impl VisionProvider for MeteredVision {
    fn model(&self) -> &str {
        self.inner.model()
    }

    fn fixed_language(&self) -> Option<Language> {
        self.inner.fixed_language()
    }

    fn judges_alt_text(&self) -> bool {
        self.inner.judges_alt_text()
    }

    async fn describe(&self, request: VisionRequest<'_>) -> Result<VisionOutput, VisionError> {
        let started = Instant::now();
        let result = self.inner.describe(request).await;
        let tokens = result
            .as_ref()
            .map_or((0, 0), |o| (o.tokens.input, o.tokens.output));
        self.metrics.observe_model_call(
            self.inner.model(),
            result.is_ok(),
            started.elapsed(),
            tokens,
        );
        result
    }
}
