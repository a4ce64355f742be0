//! What a model's tokens cost, for `cost_usd`. Prices are per million tokens, in micro-dollars
//! so that all arithmetic stays in integers.
use std::collections::HashMap;

use altframe_domain::job::Tokens;
use altframe_domain::Micros;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelPrice {
    pub input_per_million: Micros,
    pub output_per_million: Micros,
}

impl ModelPrice {
    pub fn cost(self, tokens: Tokens) -> Micros {
        let part = |n: u32, per_million: Micros| {
            (i128::from(n) * i128::from(per_million.0) + 500_000) / 1_000_000
        };
        let total = part(tokens.input, self.input_per_million)
            + part(tokens.output, self.output_per_million);
        Micros(i64::try_from(total).unwrap_or(i64::MAX))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable(HashMap<String, ModelPrice>);

impl Default for PriceTable {
    /// List prices in USD per million tokens (input / output).
    fn default() -> Self {
        let mut t = HashMap::new();
        for (model, input, output) in [
            ("gpt-4.1-nano", 100_000, 400_000),
            ("gpt-4.1-mini", 400_000, 1_600_000),
            ("gpt-4.1", 2_000_000, 8_000_000),
            ("gpt-4o-mini", 150_000, 600_000),
            ("gpt-4o", 2_500_000, 10_000_000),
        ] {
            t.insert(
                model.to_string(),
                ModelPrice {
                    input_per_million: Micros(input),
                    output_per_million: Micros(output),
                },
            );
        }
        PriceTable(t)
    }
}

/// An entry of `ALTFRAME_MODEL_PRICES` that is not `model=input/output` in dollars.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read \"{0}\"; expected model=input/output, in dollars per million tokens")]
pub struct BadPrice(pub String);

impl PriceTable {
    /// Adds or replaces prices from `model=input/output[,model=input/output]`, in dollars per
    /// million tokens, as `ALTFRAME_MODEL_PRICES` gives them.
    pub fn with_overrides(mut self, spec: &str) -> Result<PriceTable, BadPrice> {
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || BadPrice(entry.to_string());
            let (model, prices) = entry.split_once('=').ok_or_else(bad)?;
            let (input, output) = prices.split_once('/').ok_or_else(bad)?;
            let dollars = |s: &str| -> Result<Micros, BadPrice> {
                let v: f64 = s.trim().parse().map_err(|_| bad())?;
                if !(0.0..1e6).contains(&v) {
                    return Err(bad());
                }
                Ok(Micros((v * 1_000_000.0).round() as i64))
            };
            self.0.insert(
                model.trim().to_string(),
                ModelPrice {
                    input_per_million: dollars(input)?,
                    output_per_million: dollars(output)?,
                },
            );
        }
        Ok(self)
    }

    pub fn cost(&self, model: &str, tokens: Tokens) -> Micros {
        self.0
            .get(model)
            .map(|p| p.cost(tokens))
            .unwrap_or(Micros::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt_4_1_nano_costs_its_list_price() {
        let cost = PriceTable::default().cost(
            "gpt-4.1-nano",
            Tokens {
                input: 1180,
                output: 142,
            },
        );
        // 1180 × $0.10/M + 142 × $0.40/M = $0.000118 + $0.0000568
        assert_eq!(cost, Micros(175));
    }

    #[test]
    fn overrides_are_read_in_dollars_per_million() {
        let t = PriceTable::default()
            .with_overrides("llava=1/2, gpt-4.1-nano=0.2/0.8")
            .unwrap();
        let tokens = Tokens {
            input: 1_000_000,
            output: 1_000_000,
        };
        assert_eq!(t.cost("llava", tokens), Micros(3_000_000));
        assert_eq!(t.cost("gpt-4.1-nano", tokens), Micros(1_000_000));
        assert_eq!(t.cost("unknown", tokens), Micros::ZERO);
        assert!(PriceTable::default().with_overrides("nonsense").is_err());
    }
}
