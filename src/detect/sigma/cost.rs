//! What a user's Sigma rule may cost to load: a bound on the patterns its values expand to
//! and on its regexes, checked before the rule is lowered.

use crate::detect::limits;
use rsigma_parser::SigmaRule;

/// Refuses a rule whose values expand past [`limits::MAX_SIGMA_EXPANSION`] or whose `|re`
/// regexes are too costly.
pub(super) fn sigma_cost(rule: &SigmaRule) -> Result<(), String> {
    use rsigma_parser::{Detection, Modifier};
    fn expansion(value: &str, mods: &[Modifier]) -> usize {
        let mut n = 1usize;
        for m in mods {
            n = n.saturating_mul(match m {
                // Each dash may be written five ways.
                Modifier::WindAsh => {
                    let dashes = value.matches(['-', '/']).count().min(16) as u32;
                    5usize.saturating_pow(dashes)
                }
                Modifier::Base64Offset => 3,
                _ => 1,
            });
        }
        n
    }
    fn walk(d: &Detection, total: &mut usize) -> Result<(), String> {
        match d {
            Detection::AllOf(items) => {
                for item in items {
                    for v in &item.values {
                        let text = v.to_string();
                        if item.field.modifiers.contains(&Modifier::Re) {
                            limits::regex_cost(&text)?;
                        }
                        *total = total.saturating_add(expansion(&text, &item.field.modifiers));
                    }
                }
            }
            Detection::AnyOf(ds) => {
                for x in ds {
                    walk(x, total)?;
                }
            }
            Detection::Keywords(vs) => *total = total.saturating_add(vs.len()),
            #[allow(unreachable_patterns)]
            _ => *total = total.saturating_add(1),
        }
        Ok(())
    }
    let mut total = 0usize;
    for d in rule.detection.named.values() {
        walk(d, &mut total)?;
    }
    if total > limits::MAX_SIGMA_EXPANSION {
        return Err(format!(
            "its values expand to {total} patterns (at most {}): fewer values or modifiers such as |windash",
            limits::MAX_SIGMA_EXPANSION
        ));
    }
    Ok(())
}
