//! A JSON Schema as a table a person can read: one row per field, with its type, whether it
//! is required, its description and its limits. The fields of a nested object, or of the
//! objects in an array, follow their parent as rows of their own, named by their path
//! (`images[].image_url`), so that the table reads the same to a screen reader as it looks.
use serde_json::{Map, Value};

use super::prose::{number, Prose};

/// Nesting deeper than this is cut off; the spec's deepest body is three levels.
const MAX_DEPTH: usize = 6;
/// `$ref` chains longer than this are taken as broken.
const MAX_HOPS: usize = 8;

/// A body or a field's schema, as a table.
#[derive(Debug, Clone)]
pub struct SchemaTable {
    /// What the whole body is: `object (GenerateRequest)`, `string`, ...
    pub kind: String,
    pub description: Prose,
    /// Limits on the whole body (an array's item count, say).
    pub limits: Vec<Limit>,
    /// Its fields, nested ones after their parent; empty when it has none.
    pub rows: Vec<FieldRow>,
}

#[derive(Debug, Clone)]
pub struct FieldRow {
    /// The path to the field's parent, with its separator: `images[].`; empty at the top.
    pub parent: String,
    pub name: String,
    /// How far the field is nested (0 at the top), for the indentation.
    pub depth: usize,
    pub kind: String,
    pub required: bool,
    pub description: Prose,
    pub limits: Vec<Limit>,
}

impl FieldRow {
    /// The indentation step shown, 0 to 4 (the stylesheet has classes up to `depth-4`).
    pub fn indent(&self) -> usize {
        self.depth.min(4)
    }
}

/// One limit on a value: a phrase, and the values it names (shown as code), as in
/// "one of `standard`, `ecommerce`" or "at most 2,048 characters".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub text: String,
    pub values: Vec<String>,
}

impl Limit {
    fn phrase(text: impl Into<String>) -> Limit {
        Limit {
            text: text.into(),
            values: Vec::new(),
        }
    }

    fn with(text: impl Into<String>, values: Vec<String>) -> Limit {
        Limit {
            text: text.into(),
            values,
        }
    }
}

/// Follows `$ref`s inside the document until a schema that is not one.
pub fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..MAX_HOPS {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => match doc.pointer(r.trim_start_matches('#')) {
                Some(target) => v = target,
                None => return v,
            },
            None => return v,
        }
    }
    v
}

/// The name a `$ref` points at: `#/components/schemas/GenerateMeta` -> `GenerateMeta`.
fn ref_name(v: &Value) -> Option<&str> {
    v.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
}

/// A schema without its "or null": `anyOf: [X, {type: null}]` is X, and whether null was
/// allowed.
fn without_null(v: &Value) -> (&Value, bool) {
    for key in ["anyOf", "oneOf"] {
        if let Some(variants) = v.get(key).and_then(Value::as_array) {
            let not_null: Vec<&Value> = variants
                .iter()
                .filter(|s| s.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            if let [only] = not_null.as_slice() {
                return (only, not_null.len() < variants.len());
            }
        }
    }
    (v, false)
}

/// The schema's `type`, without `null`, and whether `null` was one of them.
fn types(v: &Value) -> (Vec<&str>, bool) {
    match v.get("type") {
        Some(Value::String(t)) => (vec![t.as_str()], t == "null"),
        Some(Value::Array(ts)) => {
            let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            let nullable = names.contains(&"null");
            (
                names.into_iter().filter(|t| *t != "null").collect(),
                nullable,
            )
        }
        _ => (Vec::new(), false),
    }
}

/// What a value is, in words: `string`, `integer or null`, `array of object (BulkImage)`.
pub fn kind(doc: &Value, schema: &Value) -> String {
    kind_at(doc, schema, 0)
}

fn kind_at(doc: &Value, schema: &Value, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "…".into();
    }
    let (schema, null_variant) = without_null(schema);
    let name = ref_name(schema);
    let target = resolve(doc, schema);
    let (names, null_type) = types(target);
    let mut text = match names.as_slice() {
        ["array"] => match target.get("items") {
            Some(items) => format!("array of {}", kind_at(doc, items, depth + 1)),
            None => "array".into(),
        },
        ["object"] => match (name, target.get("additionalProperties")) {
            (Some(name), _) => format!("object ({name})"),
            (None, Some(values)) if values.is_object() && target.get("properties").is_none() => {
                format!("map of {} values", kind_at(doc, values, depth + 1))
            }
            _ => "object".into(),
        },
        [] => match (name, target.get("anyOf").or_else(|| target.get("oneOf"))) {
            (Some(name), _) => name.to_string(),
            (None, Some(Value::Array(variants))) => variants
                .iter()
                .map(|v| kind_at(doc, v, depth + 1))
                .collect::<Vec<_>>()
                .join(" or "),
            _ => "any".into(),
        },
        [single] => match target.get("format").and_then(Value::as_str) {
            Some(format) if *single == "string" => format!("string ({format})"),
            _ => single.to_string(),
        },
        several => several.join(" or "),
    };
    if null_variant || null_type {
        text.push_str(" or null");
    }
    text
}

/// A JSON value as the page names it: strings bare, anything else as JSON.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// "1 to 100 items", "at most 2,048 characters", "at least 1 item".
fn range(min: Option<i64>, max: Option<i64>, one: &str, many: &str) -> Option<String> {
    let unit = |n: i64| if n == 1 { one } else { many };
    match (min, max) {
        (Some(lo), Some(hi)) if lo == hi => Some(format!("exactly {} {}", number(lo), unit(hi))),
        (Some(lo), Some(hi)) => Some(format!("{} to {} {}", number(lo), number(hi), unit(hi))),
        (Some(lo), None) => Some(format!("at least {} {}", number(lo), unit(lo))),
        (None, Some(hi)) => Some(format!("at most {} {}", number(hi), unit(hi))),
        (None, None) => None,
    }
}

fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// A number limit as written: whole numbers grouped, others as JSON has them.
fn bound(v: &Value, key: &str) -> Option<String> {
    let n = v.get(key)?;
    Some(match n.as_i64() {
        Some(i) => number(i),
        None => n.to_string(),
    })
}

/// The limits a schema puts on its own value (not on its fields').
pub fn limits(doc: &Value, schema: &Value) -> Vec<Limit> {
    let (schema, _) = without_null(schema);
    let s = resolve(doc, schema);
    let mut found = Vec::new();
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        let values = values.iter().filter(|v| !v.is_null()).map(shown).collect();
        found.push(Limit::with("one of", values));
    }
    if let Some(value) = s.get("const") {
        found.push(Limit::with("always", vec![shown(value)]));
    }
    if let Some(text) = range(
        int(s, "minLength"),
        int(s, "maxLength"),
        "character",
        "characters",
    ) {
        found.push(Limit::phrase(text));
    }
    match (bound(s, "minimum"), bound(s, "maximum")) {
        (Some(lo), Some(hi)) => found.push(Limit::phrase(format!("{lo} to {hi}"))),
        (Some(lo), None) => found.push(Limit::phrase(format!("at least {lo}"))),
        (None, Some(hi)) => found.push(Limit::phrase(format!("at most {hi}"))),
        (None, None) => {}
    }
    if let Some(lo) = bound(s, "exclusiveMinimum") {
        found.push(Limit::phrase(format!("more than {lo}")));
    }
    if let Some(hi) = bound(s, "exclusiveMaximum") {
        found.push(Limit::phrase(format!("less than {hi}")));
    }
    if let Some(text) = range(int(s, "minItems"), int(s, "maxItems"), "item", "items") {
        found.push(Limit::phrase(text));
    }
    if s.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
        found.push(Limit::phrase("no repeats"));
    }
    if let Some(text) = range(
        int(s, "minProperties"),
        int(s, "maxProperties"),
        "entry",
        "entries",
    ) {
        found.push(Limit::phrase(text));
    }
    if let Some(pattern) = s.get("pattern").and_then(Value::as_str) {
        found.push(Limit::with("matches", vec![pattern.to_string()]));
    }
    if let Some(default) = s.get("default") {
        found.push(Limit::with("default", vec![shown(default)]));
    }
    // What the items of an array, or the keys and values of a map, must be; not when they
    // are objects with fields of their own, whose rows say it.
    let each = |prefix: &str, inner: &Value, found: &mut Vec<Limit>| {
        if has_fields(doc, inner) {
            return;
        }
        for limit in limits(doc, inner) {
            found.push(Limit::with(
                format!("{prefix} {}", limit.text),
                limit.values,
            ));
        }
    };
    if let Some(items) = s.get("items") {
        each("each", items, &mut found);
    }
    if let Some(names) = s.get("propertyNames") {
        each("each key", names, &mut found);
    }
    if let Some(values) = s.get("additionalProperties").filter(|v| v.is_object()) {
        each("each value", values, &mut found);
    }
    found
}

/// The properties of an object schema (after refs and "or null"), if it has any.
fn fields<'a>(doc: &'a Value, schema: &'a Value) -> Option<&'a Map<String, Value>> {
    let (schema, _) = without_null(schema);
    resolve(doc, schema)
        .get("properties")
        .and_then(Value::as_object)
        .filter(|p| !p.is_empty())
}

fn has_fields(doc: &Value, schema: &Value) -> bool {
    fields(doc, schema).is_some()
}

/// The schema of what is nested under a field, with the path separator to show: the field's
/// own object (`meta.`), or its array's objects (`images[].`).
fn nested<'a>(doc: &'a Value, schema: &'a Value) -> Option<(&'a Value, &'static str)> {
    let (schema, _) = without_null(schema);
    let target = resolve(doc, schema);
    if has_fields(doc, target) {
        return Some((target, "."));
    }
    let items = target.get("items")?;
    has_fields(doc, items).then_some((items, "[]."))
}

fn required_names(doc: &Value, schema: &Value) -> Vec<String> {
    let (schema, _) = without_null(schema);
    resolve(doc, schema)
        .get("required")
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The description of a field: its own, or failing that its schema's.
fn description(doc: &Value, schema: &Value) -> Prose {
    let own = schema.get("description").and_then(Value::as_str);
    let (inner, _) = without_null(schema);
    let referenced = resolve(doc, inner)
        .get("description")
        .and_then(Value::as_str);
    Prose::new(own.or(referenced).unwrap_or_default())
}

fn push_rows(
    doc: &Value,
    schema: &Value,
    parent: &str,
    depth: usize,
    rows: &mut Vec<FieldRow>,
    open: &mut Vec<String>,
) {
    let Some(properties) = fields(doc, schema) else {
        return;
    };
    let required = required_names(doc, schema);
    for (name, field) in properties {
        rows.push(FieldRow {
            parent: parent.to_string(),
            name: name.clone(),
            depth,
            kind: kind(doc, field),
            required: required.contains(name),
            description: description(doc, field),
            limits: limits(doc, field),
        });
        let Some((inner, separator)) = nested(doc, field) else {
            continue;
        };
        // A schema that contains itself is shown once, not followed for ever.
        let name_of_inner = ref_name(without_null(inner).0)
            .or_else(|| ref_name(without_null(field).0))
            .map(String::from);
        if depth + 1 > MAX_DEPTH
            || name_of_inner
                .as_ref()
                .is_some_and(|n| open.iter().any(|o| o == n))
        {
            continue;
        }
        open.extend(name_of_inner.clone());
        push_rows(
            doc,
            inner,
            &format!("{parent}{name}{separator}"),
            depth + 1,
            rows,
            open,
        );
        if name_of_inner.is_some() {
            open.pop();
        }
    }
}

/// The table of a body's schema.
pub fn table(doc: &Value, schema: &Value) -> SchemaTable {
    let mut rows = Vec::new();
    let mut open: Vec<String> = ref_name(schema).map(String::from).into_iter().collect();
    match nested(doc, schema) {
        Some((inner, ".")) => push_rows(doc, inner, "", 0, &mut rows, &mut open),
        Some((inner, _)) => push_rows(doc, inner, "[].", 0, &mut rows, &mut open),
        None => {}
    }
    SchemaTable {
        kind: kind(doc, schema),
        description: description(doc, schema),
        limits: limits(doc, schema),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc() -> Value {
        json!({ "components": { "schemas": {
            "Image": {
                "type": "object",
                "description": "One image.",
                "properties": {
                    "url": { "type": "string", "maxLength": 2048 },
                    "tags": { "type": "object", "additionalProperties": { "type": "string", "maxLength": 200 }, "propertyNames": { "maxLength": 50 }, "maxProperties": 30 },
                },
                "required": ["url"],
            },
            "Request": {
                "type": "object",
                "properties": {
                    "images": { "type": "array", "items": { "$ref": "#/components/schemas/Image" }, "minItems": 1, "maxItems": 100 },
                    "mode": { "type": "string", "enum": ["standard", "decorative"], "default": "standard" },
                    "fields": { "type": "array", "items": { "type": "string", "enum": ["alt_text", "title"] }, "uniqueItems": true },
                    "meta": { "anyOf": [{ "$ref": "#/components/schemas/Meta" }, { "type": "null" }] },
                    "count": { "type": ["integer", "null"], "minimum": 10, "maximum": 1000 },
                },
                "required": ["images"],
            },
            "Meta": { "type": "object", "properties": { "next": { "$ref": "#/components/schemas/Meta" } } },
        } } })
    }

    fn row<'a>(table: &'a SchemaTable, path: &str) -> &'a FieldRow {
        table
            .rows
            .iter()
            .find(|r| format!("{}{}", r.parent, r.name) == path)
            .unwrap_or_else(|| panic!("no row {path}"))
    }

    #[test]
    fn nested_fields_follow_their_parent_with_their_path() {
        let doc = doc();
        let table = table(&doc, &json!({ "$ref": "#/components/schemas/Request" }));
        assert_eq!(table.kind, "object (Request)");
        let names: Vec<String> = table
            .rows
            .iter()
            .map(|r| format!("{}{}", r.parent, r.name))
            .collect();
        assert_eq!(
            names,
            [
                "count",
                "fields",
                "images",
                "images[].tags",
                "images[].url",
                "meta",
                "meta.next",
                "mode"
            ]
        );
        let images = row(&table, "images");
        assert!(images.required);
        assert_eq!(images.kind, "array of object (Image)");
        assert_eq!(images.limits, [Limit::phrase("1 to 100 items")]);
        let url = row(&table, "images[].url");
        assert_eq!(url.depth, 1);
        assert!(url.required);
        assert_eq!(url.limits, [Limit::phrase("at most 2,048 characters")]);
        assert_eq!(row(&table, "meta").kind, "object (Meta) or null");
        assert_eq!(row(&table, "count").kind, "integer or null");
        assert_eq!(row(&table, "count").limits, [Limit::phrase("10 to 1,000")]);
    }

    #[test]
    fn enums_defaults_and_item_limits_are_spelt_out() {
        let doc = doc();
        let table = table(&doc, &json!({ "$ref": "#/components/schemas/Request" }));
        assert_eq!(
            row(&table, "mode").limits,
            [
                Limit::with("one of", vec!["standard".into(), "decorative".into()]),
                Limit::with("default", vec!["standard".into()]),
            ]
        );
        assert_eq!(row(&table, "fields").kind, "array of string");
        assert_eq!(
            row(&table, "fields").limits,
            [
                Limit::phrase("no repeats"),
                Limit::with("each one of", vec!["alt_text".into(), "title".into()]),
            ]
        );
        let tags = row(&table, "images[].tags");
        assert_eq!(tags.kind, "map of string values");
        assert_eq!(
            tags.limits,
            [
                Limit::phrase("at most 30 entries"),
                Limit::phrase("each key at most 50 characters"),
                Limit::phrase("each value at most 200 characters"),
            ]
        );
    }

    #[test]
    fn a_schema_that_contains_itself_is_shown_once() {
        let doc = doc();
        let table = table(&doc, &json!({ "$ref": "#/components/schemas/Meta" }));
        assert_eq!(table.rows.len(), 1);
        assert_eq!(table.rows[0].kind, "object (Meta)");
    }

    #[test]
    fn bodies_without_fields_have_a_kind_and_no_rows() {
        let doc = doc();
        let text = table(&doc, &json!({ "type": "string" }));
        assert_eq!(text.kind, "string");
        assert!(text.rows.is_empty());
        let broken = table(&doc, &json!({ "$ref": "#/components/schemas/Missing" }));
        assert_eq!(broken.kind, "Missing");
        assert!(broken.rows.is_empty());
    }
}
