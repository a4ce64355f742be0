//! How old event shapes are read today. An event's payload is never rewritten in the store:
//! every reader (aggregate loads, the feed of projections and the process manager, the audit)
//! passes stored events through these upcasters first.
use cqrs_es::persist::{EventUpcaster, SemanticVersionEventUpcaster, SerializedEvent};
use serde_json::Value;

/// Job outcomes 1.0 (before bulk) did not say which batch the job belonged to; 1.1 does, and
/// a job of that time belonged to none.
fn job_outcome_gains_batch_id(event_type: &'static str) -> Box<dyn EventUpcaster> {
    Box::new(SemanticVersionEventUpcaster::new(
        event_type,
        "1.1",
        Box::new(move |mut payload: Value| {
            if let Some(body) = payload.get_mut(event_type).and_then(Value::as_object_mut) {
                body.entry("batch_id").or_insert(Value::Null);
            }
            payload
        }),
    ))
}

pub fn all() -> Vec<Box<dyn EventUpcaster>> {
    vec![
        job_outcome_gains_batch_id("JobCompleted"),
        job_outcome_gains_batch_id("JobFailed"),
    ]
}

/// Upcasts one stored event for readers that do not go through cqrs-es.
pub fn upcast(upcasters: &[Box<dyn EventUpcaster>], event: SerializedEvent) -> SerializedEvent {
    upcasters.iter().fold(event, |event, u| {
        if u.can_upcast(&event.event_type, &event.event_version) {
            u.upcast(event)
        } else {
            event
        }
    })
}

#[cfg(test)]
mod tests {
    use altframe_domain::job::JobEvent;
    use serde_json::json;

    use super::*;

    /// A JobCompleted exactly as version 1.0 stored it.
    fn stored_1_0() -> SerializedEvent {
        let payload = json!({ "JobCompleted": {
            "account_id": "acct_1",
            "reservation_id": "res_1",
            "generation": {
                "results": { "alt_text": "A red bicycle" },
                "model": "builtin",
                "tokens": { "input": 0, "output": 0 },
                "processing_ms": 12,
                "cost": 0
            },
            "at": "2026-11-25T12:00:00Z"
        }});
        SerializedEvent::new(
            "job_1".into(),
            2,
            "Job".into(),
            "JobCompleted".into(),
            "1.0".into(),
            payload,
            json!({}),
        )
    }

    #[test]
    fn a_1_0_job_outcome_reads_as_1_1_without_a_batch() {
        let event = upcast(&all(), stored_1_0());
        assert_eq!(event.payload["JobCompleted"]["batch_id"], Value::Null);
        let decoded: JobEvent = serde_json::from_value(event.payload).unwrap();
        assert!(matches!(
            decoded,
            JobEvent::JobCompleted { batch_id: None, .. }
        ));
    }

    #[test]
    fn current_events_pass_unchanged() {
        let mut current = stored_1_0();
        current.event_version = "1.1".into();
        current.payload["JobCompleted"]["batch_id"] = json!("b-1");
        let before = current.payload.clone();
        assert_eq!(upcast(&all(), current).payload, before);
    }
}
