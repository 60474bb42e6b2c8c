//! The catastrophic-forgetting meter: the base model's own head and its
//! task's test images, re-measured on the fine-tuned backbone at every
//! evaluation, so the page can chart what fine-tuning costs the source task.

use std::sync::Arc;

use super::evaluate::evaluate;
use crate::data::{Dataset, Split};
use crate::error::{Error, Result};
use crate::init::Init;
use crate::model::Sequential;
use crate::nn::Shape;

pub(crate) struct ForgettingMeter {
    /// The base model; its backbone is overwritten from the trainee before each measurement.
    source_model: Sequential,
    source: Arc<Dataset>,
    test_indices: Vec<usize>,
    chunk: usize,
}

impl ForgettingMeter {
    /// `base` is the model `trainee` was fine-tuned from and `source` the
    /// dataset (classes in the base's output order) it was trained on.
    pub(crate) fn new(trainee: &Sequential, base: &Sequential, source: Arc<Dataset>, chunk: usize) -> Result<Self> {
        let mut source_model = Sequential::new(base.spec(), Init::default(), 0)?;
        source_model.copy_layers_from(base, base.slots().len())?;
        source_model
            .copy_layers_from(trainee, backbone(trainee))
            .map_err(|_| Error::Config("the forgetting meter needs the fine-tuned model to share the base's backbone".into()))?;
        if source_model.output_shape() != Shape::flat(source.classes()) {
            return Err(Error::Config(format!(
                "the base model has {} outputs but the source dataset has {} classes",
                source_model.output_shape(),
                source.classes()
            )));
        }
        let test_indices = source.indices(Split::Test);
        if test_indices.is_empty() {
            return Err(Error::Config("the source dataset has no test images to measure forgetting on".into()));
        }
        Ok(ForgettingMeter { source_model, source, test_indices, chunk })
    }

    /// Source-task accuracy through the base's head on `trainee`'s current backbone.
    pub(crate) fn measure(&mut self, trainee: &Sequential) -> Option<f32> {
        self.source_model.copy_layers_from(trainee, backbone(trainee)).expect("checked when the meter was made");
        evaluate(&mut self.source_model, &self.source, &self.test_indices, self.chunk).map(|m| m.1)
    }
}

/// Every layer but the head.
fn backbone(model: &Sequential) -> usize {
    model.slots().len() - 1
}
