//! axe-core in the browser: what it reports, and the check every page of ours must pass (no
//! serious or critical violation).
use std::sync::OnceLock;

use serde_json::{json, Value};

use super::{Browser, AXE};

/// One axe-core rule that the page breaks.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The rule, e.g. `image-alt`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    pub help: String,
    pub help_url: String,
    /// The elements that break it.
    pub nodes: Vec<FailingNode>,
}

/// An element that breaks a rule: its CSS selector (frames and shadow roots joined by ` >>> `)
/// and the start of its HTML.
#[derive(Debug, Clone)]
pub struct FailingNode {
    pub target: String,
    pub html: String,
}

impl Violation {
    /// Serious or critical: what `assert_accessible` fails on.
    pub fn is_serious(&self) -> bool {
        matches!(self.impact.as_str(), "serious" | "critical")
    }

    pub fn targets(&self) -> Vec<&str> {
        self.nodes.iter().map(|n| n.target.as_str()).collect()
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "[{}] {}: {} ({})",
            self.impact, self.id, self.help, self.help_url
        )?;
        for node in &self.nodes {
            writeln!(f, "    {}    {}", node.target, node.html)?;
        }
        Ok(())
    }
}

fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        std::fs::read_to_string(AXE)
            .unwrap_or_else(|e| panic!("read {AXE}: {e}. Run scripts/deps to install axe-core."))
    })
}

impl Browser {
    /// Runs axe-core (the copy scripts/deps installed) on the page as it is now, and returns
    /// every rule it breaks, of any impact.
    pub async fn axe(&self) -> Vec<Violation> {
        let loaded = self
            .client
            .execute(
                &format!("{};\nreturn typeof window.axe;", axe_source()),
                vec![],
            )
            .await
            .expect("load axe-core into the page");
        assert_eq!(
            loaded,
            json!("object"),
            "axe-core did not load into the page"
        );
        let script = r#"
            const done = arguments[arguments.length - 1];
            window.axe.run(document, { resultTypes: ["violations"] }).then(
                (results) => done({ violations: results.violations.map((v) => ({
                    id: v.id,
                    impact: v.impact,
                    help: v.help,
                    helpUrl: v.helpUrl,
                    nodes: v.nodes.map((n) => ({
                        target: n.target.map((t) => Array.isArray(t) ? t.join(" >>> ") : t).join(" >>> "),
                        html: n.html,
                    })),
                })) }),
                (error) => done({ error: String(error) }),
            );
        "#;
        let result = self
            .client
            .execute_async(script, vec![])
            .await
            .expect("run axe-core");
        if let Some(error) = result.get("error") {
            panic!("axe-core failed on the page: {error}");
        }
        let text = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_string();
        result["violations"]
            .as_array()
            .expect("axe-core's violations")
            .iter()
            .map(|v| Violation {
                id: text(v, "id"),
                impact: text(v, "impact"),
                help: text(v, "help"),
                help_url: text(v, "helpUrl"),
                nodes: v["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|n| FailingNode {
                        target: text(n, "target"),
                        html: text(n, "html").chars().take(200).collect(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Fails the test when axe-core finds a serious or critical violation on the page, printing
    /// each of them (and, below them, the minor and moderate ones, which do not fail it).
    pub async fn assert_accessible(&self, page_name: &str) {
        let violations = self.axe().await;
        let (serious, other): (Vec<_>, Vec<_>) =
            violations.into_iter().partition(Violation::is_serious);
        if !other.is_empty() {
            eprintln!(
                "{page_name}: {} minor or moderate accessibility findings:",
                other.len()
            );
            for v in &other {
                eprint!("  {v}");
            }
        }
        if !serious.is_empty() {
            let listed: String = serious.iter().map(|v| format!("  {v}")).collect();
            panic!(
                "{page_name}: {} serious or critical accessibility violations (axe-core):\n{listed}",
                serious.len()
            );
        }
    }
}
