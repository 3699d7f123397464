//! Reading config files: serde visitors that track each value's path, fill the original's
//! defaults, collect warnings, and keep the evidence of the first problem beside the format's own
//! error (which supplies the line and column).
//!
//! Both passes count every node (alias expansions included), every level of nesting and the
//! text against [`CONFIG_LIMITS`] with the guarded reader's [`Budget`], so hostile files fail
//! fast instead of hanging or overflowing the stack.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

use super::{
    AgentConfig, ConfigError, ConfigFormat, JudgeConfig, Mode, PipelineConfig, CONFIG_LIMITS,
    DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_REASKS, DEFAULT_MAX_TOKENS,
    DEFAULT_REQUEST_TIMEOUT_SECS, DEFAULT_TEMPERATURE, DEFAULT_TRAJECTORY_OUTPUT_DIR,
};
use crate::core::guard::{self, Budget, Skip, SkipVisitor};
use crate::core::hash::python_float_repr;
use crate::core::llm::reasoning::Reasoning;

/// Reads `text` (already size-checked, UTF-8, non-blank) as JSON.
///
/// JSON and YAML have a function each rather than a match on the format, so that code reading
/// only JSON does not take the YAML reader with it (the page loads the YAML reader on demand).
pub(super) fn read_json(text: &str) -> Result<(PipelineConfig, Vec<String>), ConfigError> {
    // A first pass over the whole text with only the limits applied, so that a syntax error
    // or a bomb anywhere in the file is reported before any problem with a field's value.
    guard::check_json(text, &CONFIG_LIMITS)
        .map_err(|e| ConfigError::from_read(e, ConfigFormat::Json))?;
    let ctx = Ctx::new(ConfigFormat::Json);
    let mut de = serde_json::Deserializer::from_str(text);
    let config = RootSeed { ctx: &ctx }
        .deserialize(&mut de)
        .and_then(|config| de.end().map(|()| config))
        .map_err(|e| json_error(e, text, &ctx))?;
    Ok((config, ctx.warnings.into_inner()))
}

/// Reads `text` (already size-checked, UTF-8, non-blank) as YAML.
pub(super) fn read_yaml(text: &str) -> Result<(PipelineConfig, Vec<String>), ConfigError> {
    // The first pass matters more here: serde_norway only reports a YAML syntax error after
    // the events before it are used.
    guard::check_yaml(text, &CONFIG_LIMITS)
        .map_err(|e| ConfigError::from_read(e, ConfigFormat::Yaml))?;
    let ctx = Ctx::new(ConfigFormat::Yaml);
    let config = RootSeed { ctx: &ctx }
        .deserialize(serde_norway::Deserializer::from_str(text))
        .map_err(|e| yaml_error(e, &ctx))?;
    Ok((config, ctx.warnings.into_inner()))
}

fn json_error(e: serde_json::Error, text: &str, ctx: &Ctx) -> ConfigError {
    let line = e.line().max(1);
    let column = guard::char_column(text, e.line(), e.column());
    if let Some(exceeded) = ctx.budget.exceeded() {
        return ConfigError::TooComplex {
            format: ConfigFormat::Json,
            reason: exceeded.to_string(),
        };
    }
    if let Some(failure) = ctx.failure.take() {
        return failure.into_error(ConfigFormat::Json, Some((line, column)));
    }
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    if message.contains("recursion limit exceeded") {
        return ConfigError::TooComplex {
            format: ConfigFormat::Json,
            reason: format!("nested too deeply at line {line}, column {column}"),
        };
    }
    ConfigError::Syntax {
        format: ConfigFormat::Json,
        line,
        column,
        message,
    }
}

fn yaml_error(e: serde_norway::Error, ctx: &Ctx) -> ConfigError {
    let location = e.location().map(|l| (l.line(), l.column()));
    if let Some(exceeded) = ctx.budget.exceeded() {
        return ConfigError::TooComplex {
            format: ConfigFormat::Yaml,
            reason: exceeded.to_string(),
        };
    }
    if let Some(failure) = ctx.failure.take() {
        return failure.into_error(ConfigFormat::Yaml, location);
    }
    let full = e.to_string();
    let message = match location {
        Some((line, column)) => full.replacen(&format!(" at line {line} column {column}"), "", 1),
        None => full.clone(),
    };
    if message.starts_with("recursion limit exceeded")
        || message.starts_with("repetition limit exceeded")
    {
        let reason = match (message.starts_with("recursion"), location) {
            (true, Some((line, column))) => {
                format!("nested too deeply at line {line}, column {column}")
            }
            (true, None) => "nested too deeply".to_string(),
            (false, _) => "aliases expand too many times".to_string(),
        };
        return ConfigError::TooComplex {
            format: ConfigFormat::Yaml,
            reason,
        };
    }
    if message.contains("more than one document") {
        return ConfigError::Unreadable {
            format: ConfigFormat::Yaml,
            message: "it holds more than one YAML document (separated by `---`); keep one \
                config per file"
                .to_string(),
        };
    }
    if message.starts_with("EOF while parsing a value") {
        return ConfigError::Empty {
            format: ConfigFormat::Yaml,
        };
    }
    match location {
        Some((line, column)) => ConfigError::Syntax {
            format: ConfigFormat::Yaml,
            line,
            column,
            message,
        },
        None => ConfigError::Unreadable {
            format: ConfigFormat::Yaml,
            message,
        },
    }
}

/// What went wrong, recorded beside the serde error so the real evidence survives it.
#[derive(Debug)]
enum Failure {
    WrongType { path: String, message: String },
    Missing { path: String },
    TopLevel { found: String },
    Empty,
}

impl Failure {
    fn into_error(self, format: ConfigFormat, location: Option<(usize, usize)>) -> ConfigError {
        match self {
            Failure::WrongType { path, message } => {
                let (line, column) = location.unwrap_or((1, 1));
                ConfigError::WrongType {
                    path,
                    line,
                    column,
                    message,
                }
            }
            Failure::Missing { path } => ConfigError::Missing { path },
            Failure::TopLevel { found } => ConfigError::WrongTopLevel { format, found },
            Failure::Empty => ConfigError::Empty { format },
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::WrongType { path, message } => write!(f, "{path}: {message}"),
            Failure::Missing { path } => write!(f, "{path} is missing"),
            Failure::TopLevel { found } => write!(f, "the document is {found}"),
            Failure::Empty => f.write_str("the document is empty"),
        }
    }
}

/// State shared by every visitor of one parse.
struct Ctx {
    format: ConfigFormat,
    warnings: RefCell<Vec<String>>,
    failure: RefCell<Option<Failure>>,
    budget: Budget,
}

impl Ctx {
    fn new(format: ConfigFormat) -> Self {
        Ctx {
            format,
            warnings: RefCell::new(Vec::new()),
            failure: RefCell::new(None),
            budget: Budget::new(CONFIG_LIMITS),
        }
    }

    /// Records `failure` and returns the serde error that aborts the parse.
    fn fail<E: de::Error>(&self, failure: Failure) -> E {
        let error = E::custom(&failure);
        let mut slot = self.failure.borrow_mut();
        if slot.is_none() {
            *slot = Some(failure);
        }
        error
    }

    fn warn(&self, warning: String) {
        self.warnings.borrow_mut().push(warning);
    }

    /// Counts one value against [`CONFIG_LIMITS`].
    fn tick<E: de::Error>(&self) -> Result<(), E> {
        self.budget.tick()
    }

    /// Runs `f` one level deeper, within [`CONFIG_LIMITS`].
    fn nested<T, E: de::Error>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        self.budget.nested(f)
    }

    /// Skips a value the config does not read, counting it.
    fn skip(&self) -> Skip<'_> {
        Skip {
            budget: &self.budget,
        }
    }

    fn skip_visitor(&self) -> SkipVisitor<'_> {
        SkipVisitor {
            budget: &self.budget,
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The kinds of value a config field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Float,
    Whole,
    OptFloat,
    Mode,
    Reasoning,
    Agent,
    Judge,
}

impl Kind {
    fn expected(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Float => "a number",
            Kind::Whole => "a whole number",
            Kind::OptFloat => "a number or null",
            Kind::Mode => "\"debate\" or \"baseline\"",
            Kind::Reasoning => "off, low, medium, high or {budget_tokens: N}",
            Kind::Agent | Kind::Judge => "a mapping of settings",
        }
    }
}

struct FieldSpec {
    name: &'static str,
    kind: Kind,
}

const fn field(name: &'static str, kind: Kind) -> FieldSpec {
    FieldSpec { name, kind }
}

const PIPELINE_FIELDS: &[FieldSpec] = &[
    field("solver", Kind::Agent),
    field("verifier", Kind::Agent),
    field("judge", Kind::Judge),
    field("mode", Kind::Mode),
    field("max_iterations", Kind::Whole),
    field("trajectory_output_dir", Kind::Text),
    field("config_version", Kind::Text),
    field("max_reasks", Kind::Whole),
    field("max_attempts", Kind::Whole),
    field("request_timeout_secs", Kind::Whole),
    field("run_budget_usd", Kind::OptFloat),
    field("batch_budget_usd", Kind::OptFloat),
];

const AGENT_FIELDS: &[FieldSpec] = &[
    field("role", Kind::Text),
    field("model", Kind::Text),
    field("temperature", Kind::Float),
    field("max_tokens", Kind::Whole),
    field("prompt_template", Kind::Text),
    field("system_prompt", Kind::Text),
    field("reasoning", Kind::Reasoning),
];

const JUDGE_FIELDS: &[FieldSpec] = &[
    field("model", Kind::Text),
    field("temperature", Kind::Float),
    field("max_tokens", Kind::Whole),
    field("prompt_template", Kind::Text),
    field("system_prompt", Kind::Text),
    field("scoring_rubric", Kind::Text),
    field("reasoning", Kind::Reasoning),
];

/// A parsed field value.
#[derive(Debug)]
enum Val {
    Text(String),
    Float(f64),
    Whole(u32),
    OptFloat(Option<f64>),
    Mode(Mode),
    Reasoning(Reasoning),
    Agent(Box<AgentConfig>),
    Judge(Box<JudgeConfig>),
}

/// The fields of one mapping collected so far; each remembers whether it was written
/// explicitly or came from a YAML merge key.
struct Builder {
    prefix: String,
    fields: &'static [FieldSpec],
    slots: Vec<Option<(Val, bool)>>,
}

impl Builder {
    fn new(prefix: &str, fields: &'static [FieldSpec]) -> Self {
        Builder {
            prefix: prefix.to_string(),
            fields,
            slots: fields.iter().map(|_| None).collect(),
        }
    }

    /// Stores a value: explicit keys override (the last one wins), merged keys only fill gaps.
    fn set(&mut self, index: usize, value: Val, explicit: bool, ctx: &Ctx) {
        let slot = &mut self.slots[index];
        match slot {
            Some((_, true)) if !explicit => {}
            Some((_, false)) if !explicit => {}
            Some((_, true)) => {
                ctx.warn(format!(
                    "{}: given more than once; the last value is used",
                    join(&self.prefix, self.fields[index].name)
                ));
                *slot = Some((value, true));
            }
            _ => *slot = Some((value, explicit)),
        }
    }

    fn take(&mut self, name: &str) -> Option<Val> {
        let index = self.fields.iter().position(|f| f.name == name)?;
        self.slots[index].take().map(|(value, _)| value)
    }

    fn required_text(&mut self, name: &str) -> Result<String, Failure> {
        match self.take(name) {
            Some(Val::Text(s)) => Ok(s),
            _ => Err(Failure::Missing {
                path: join(&self.prefix, name),
            }),
        }
    }

    fn text_or(&mut self, name: &str, default: &str) -> String {
        match self.take(name) {
            Some(Val::Text(s)) => s,
            _ => default.to_string(),
        }
    }

    fn float_or(&mut self, name: &str, default: f64) -> f64 {
        match self.take(name) {
            Some(Val::Float(x)) => x,
            _ => default,
        }
    }

    fn whole_or(&mut self, name: &str, default: u32) -> u32 {
        match self.take(name) {
            Some(Val::Whole(n)) => n,
            _ => default,
        }
    }

    fn reasoning(&mut self) -> Reasoning {
        match self.take("reasoning") {
            Some(Val::Reasoning(r)) => r,
            _ => Reasoning::Off,
        }
    }

    fn opt_float(&mut self, name: &str) -> Option<f64> {
        match self.take(name) {
            Some(Val::OptFloat(x)) => x,
            _ => None,
        }
    }

    fn finish_agent(mut self) -> Result<AgentConfig, Failure> {
        Ok(AgentConfig {
            role: self.required_text("role")?,
            model: self.required_text("model")?,
            temperature: self.float_or("temperature", DEFAULT_TEMPERATURE),
            max_tokens: self.whole_or("max_tokens", DEFAULT_MAX_TOKENS),
            prompt_template: self.required_text("prompt_template")?,
            system_prompt: self.text_or("system_prompt", ""),
            reasoning: self.reasoning(),
        })
    }

    fn finish_judge(mut self) -> Result<JudgeConfig, Failure> {
        Ok(JudgeConfig {
            model: self.required_text("model")?,
            temperature: self.float_or("temperature", DEFAULT_TEMPERATURE),
            max_tokens: self.whole_or("max_tokens", DEFAULT_MAX_TOKENS),
            prompt_template: self.required_text("prompt_template")?,
            system_prompt: self.text_or("system_prompt", ""),
            scoring_rubric: self.required_text("scoring_rubric")?,
            reasoning: self.reasoning(),
        })
    }

    fn finish_pipeline(mut self) -> Result<PipelineConfig, Failure> {
        let config_version = self.required_text("config_version")?;
        let solver = match self.take("solver") {
            Some(Val::Agent(a)) => *a,
            _ => return Err(missing("solver")),
        };
        let verifier = match self.take("verifier") {
            Some(Val::Agent(a)) => *a,
            _ => return Err(missing("verifier")),
        };
        let judge = match self.take("judge") {
            Some(Val::Judge(j)) => *j,
            _ => return Err(missing("judge")),
        };
        let mode = match self.take("mode") {
            Some(Val::Mode(m)) => m,
            _ => Mode::default(),
        };
        Ok(PipelineConfig {
            solver,
            verifier,
            judge,
            mode,
            max_iterations: self.whole_or("max_iterations", DEFAULT_MAX_ITERATIONS),
            trajectory_output_dir: self
                .text_or("trajectory_output_dir", DEFAULT_TRAJECTORY_OUTPUT_DIR),
            config_version,
            max_reasks: self.whole_or("max_reasks", DEFAULT_MAX_REASKS),
            max_attempts: self.whole_or("max_attempts", DEFAULT_MAX_ATTEMPTS),
            request_timeout_secs: self
                .whole_or("request_timeout_secs", DEFAULT_REQUEST_TIMEOUT_SECS),
            run_budget_usd: self.opt_float("run_budget_usd"),
            batch_budget_usd: self.opt_float("batch_budget_usd"),
        })
    }
}

fn missing(path: &str) -> Failure {
    Failure::Missing {
        path: path.to_string(),
    }
}

/// What a visitor saw for a YAML document without any node.
const EMPTY_DOCUMENT: &str = "nothing";

/// Rejects every kind of value but a mapping or a list, through the visitor's `reject(found)`.
macro_rules! reject_non_mappings {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(self.reject("a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(self.reject("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(self.reject("a number"))
        }
        fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
            Err(self.reject("a number"))
        }
        fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
            Err(self.reject("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(self.reject("a number"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(self.reject("a string"))
        }
        fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
            Err(self.reject("bytes"))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Err(self.reject("nothing (null)"))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            // A YAML document with no node at all (only comments) arrives as `none`; an
            // explicit `null` as `unit`.
            Err(self.reject(EMPTY_DOCUMENT))
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_enum<A: EnumAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(self.reject("a tagged value (YAML tags are not supported)"))
        }
    };
}

/// The whole document.
struct RootSeed<'c> {
    ctx: &'c Ctx,
}

impl<'de> DeserializeSeed<'de> for RootSeed<'_> {
    type Value = PipelineConfig;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<PipelineConfig, D::Error> {
        let mut builder = Builder::new("", PIPELINE_FIELDS);
        d.deserialize_any(MapVisitor {
            ctx: self.ctx,
            builder: &mut builder,
            explicit: true,
            root: true,
        })?;
        builder
            .finish_pipeline()
            .map_err(|failure| self.ctx.fail(failure))
    }
}

/// Reads a mapping's entries into a [`Builder`].
struct MapVisitor<'c, 'b> {
    ctx: &'c Ctx,
    builder: &'b mut Builder,
    /// False while reading a mapping merged in with `<<`.
    explicit: bool,
    root: bool,
}

impl MapVisitor<'_, '_> {
    fn reject<E: de::Error>(&self, found: &str) -> E {
        if self.root && found == EMPTY_DOCUMENT {
            self.ctx.fail(Failure::Empty)
        } else if self.root {
            self.ctx.fail(Failure::TopLevel {
                found: found.to_string(),
            })
        } else if !self.explicit {
            self.ctx.fail(Failure::WrongType {
                path: join(&self.builder.prefix, "<<"),
                message: format!("expected a mapping to merge, found {found}"),
            })
        } else {
            self.ctx.fail(Failure::WrongType {
                path: self.builder.prefix.clone(),
                message: format!("expected a mapping of settings, found {found}"),
            })
        }
    }
}

impl<'de> Visitor<'de> for MapVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping of settings")
    }

    reject_non_mappings!();

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.reject("a list"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        while let Some(key) = map.next_key_seed(KeySeed { ctx })? {
            let prefix = self.builder.prefix.clone();
            let name = match key {
                Key::Text(name) => name,
                Key::Other(found) => {
                    let at = if prefix.is_empty() {
                        "top level"
                    } else {
                        &prefix
                    };
                    ctx.warn(format!("{at}: a key that is {found}, not text, ignored"));
                    map.next_value_seed(ctx.skip())?;
                    continue;
                }
            };
            if name == "<<" && ctx.format == ConfigFormat::Yaml {
                map.next_value_seed(MergeSeed {
                    ctx,
                    builder: &mut *self.builder,
                })?;
                continue;
            }
            let path = join(&prefix, &name);
            match self.builder.fields.iter().position(|f| f.name == name) {
                Some(index) => {
                    let kind = self.builder.fields[index].kind;
                    let value = map.next_value_seed(ValueSeed { ctx, path, kind })?;
                    self.builder.set(index, value, self.explicit, ctx);
                }
                None => {
                    ctx.warn(format!("{path}: unknown key, ignored"));
                    map.next_value_seed(ctx.skip())?;
                }
            }
        }
        Ok(())
    }
}

/// The value of a YAML merge key: a mapping, or a list of mappings (earlier ones win).
struct MergeSeed<'c, 'b> {
    ctx: &'c Ctx,
    builder: &'b mut Builder,
}

impl MergeSeed<'_, '_> {
    fn reject<E: de::Error>(&self, found: &str) -> E {
        self.ctx.fail(Failure::WrongType {
            path: join(&self.builder.prefix, "<<"),
            message: format!("expected a mapping (or a list of mappings) to merge, found {found}"),
        })
    }
}

impl<'de> DeserializeSeed<'de> for MergeSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let ctx = self.ctx;
        ctx.tick::<D::Error>()?;
        ctx.nested(|| d.deserialize_any(self))
    }
}

impl<'de> Visitor<'de> for MergeSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping or a list of mappings to merge")
    }

    reject_non_mappings!();

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let MergeSeed { ctx, builder } = self;
        while seq
            .next_element_seed(MergeListSeed {
                ctx,
                builder: &mut *builder,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        MapVisitor {
            ctx: self.ctx,
            builder: self.builder,
            explicit: false,
            root: false,
        }
        .visit_map(map)
    }
}

/// A list under a merge key: each element must be a mapping.
struct MergeListSeed<'c, 'b> {
    ctx: &'c Ctx,
    builder: &'b mut Builder,
}

impl<'de> DeserializeSeed<'de> for MergeListSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let ctx = self.ctx;
        ctx.tick::<D::Error>()?;
        ctx.nested(|| {
            d.deserialize_any(MapVisitor {
                ctx,
                builder: self.builder,
                explicit: false,
                root: false,
            })
        })
    }
}

/// A mapping key: text, or something else YAML allows (numbers, lists...).
enum Key {
    Text(String),
    Other(&'static str),
}

struct KeySeed<'c> {
    ctx: &'c Ctx,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        self.ctx.tick::<D::Error>()?;
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        Ok(Key::Text(v))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Key, E> {
        Ok(Key::Other("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Key, E> {
        Ok(Key::Other("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Key, E> {
        Ok(Key::Other("a number"))
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Key, E> {
        Ok(Key::Other("a number"))
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Key, E> {
        Ok(Key::Other("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Key, E> {
        Ok(Key::Other("a number"))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Key, E> {
        Ok(Key::Other("bytes"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key::Other("null"))
    }
    fn visit_none<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key::Other("null"))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        self.ctx.skip().deserialize(d)?;
        Ok(Key::Other("a value"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Key, A::Error> {
        self.ctx.skip_visitor().visit_seq(seq)?;
        Ok(Key::Other("a list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Key, A::Error> {
        self.ctx.skip_visitor().visit_map(map)?;
        Ok(Key::Other("a mapping"))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Key, A::Error> {
        self.ctx.skip_visitor().visit_enum(data)?;
        Ok(Key::Other("a tagged value"))
    }
}

/// A known field's value.
struct ValueSeed<'c> {
    ctx: &'c Ctx,
    path: String,
    kind: Kind,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Val;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        let ctx = self.ctx;
        ctx.tick::<D::Error>()?;
        match self.kind {
            Kind::Agent | Kind::Judge => {
                let fields = if self.kind == Kind::Agent {
                    AGENT_FIELDS
                } else {
                    JUDGE_FIELDS
                };
                let mut builder = Builder::new(&self.path, fields);
                ctx.nested(|| {
                    d.deserialize_any(MapVisitor {
                        ctx,
                        builder: &mut builder,
                        explicit: true,
                        root: false,
                    })
                })?;
                let value = if self.kind == Kind::Agent {
                    builder.finish_agent().map(|a| Val::Agent(Box::new(a)))
                } else {
                    builder.finish_judge().map(|j| Val::Judge(Box::new(j)))
                };
                value.map_err(|failure| ctx.fail(failure))
            }
            _ => d.deserialize_any(self),
        }
    }
}

impl ValueSeed<'_> {
    fn wrong<E: de::Error>(&self, message: String) -> E {
        self.ctx.fail(Failure::WrongType {
            path: self.path.clone(),
            message,
        })
    }

    fn mismatch<E: de::Error>(&self, found: &str) -> E {
        let hint = match (self.kind, found) {
            (Kind::Text, "a number" | "a boolean") => "; put the value in quotes",
            (Kind::Text, "nothing (null)") => "; write \"\" for empty text",
            _ => "",
        };
        self.wrong(format!(
            "expected {}, found {found}{hint}",
            self.kind.expected()
        ))
    }

    fn integer<E: de::Error>(&self, v: i128) -> Result<Val, E> {
        match self.kind {
            Kind::Float => Ok(Val::Float(v as f64)),
            Kind::OptFloat => Ok(Val::OptFloat(Some(v as f64))),
            Kind::Whole => match u32::try_from(v) {
                Ok(n) => Ok(Val::Whole(n)),
                Err(_) if v < 0 => {
                    Err(self.wrong(format!("expected a whole number of 0 or more, found {v}")))
                }
                Err(_) => Err(self.wrong(format!(
                    "expected a whole number up to {}, found {v}",
                    u32::MAX
                ))),
            },
            _ => Err(self.mismatch("a number")),
        }
    }

    fn float<E: de::Error>(&self, v: f64) -> Result<Val, E> {
        let finite = |v: f64| {
            if v.is_finite() {
                Ok(v)
            } else {
                let found = if v.is_nan() { "NaN" } else { "infinity" };
                Err(self.wrong(format!("expected a finite number, found {found}")))
            }
        };
        match self.kind {
            Kind::Float => finite(v).map(Val::Float),
            Kind::OptFloat => finite(v).map(|v| Val::OptFloat(Some(v))),
            Kind::Whole if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e30 => {
                self.integer(v as i128)
            }
            Kind::Whole => Err(self.wrong(format!(
                "expected a whole number, found {}",
                python_float_repr(v)
            ))),
            _ => Err(self.mismatch("a number")),
        }
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Val;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.expected())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Val, E> {
        // PyYAML (YAML 1.1) reads a bare `off` as false.
        match (self.kind, v) {
            (Kind::Reasoning, false) => Ok(Val::Reasoning(Reasoning::Off)),
            _ => Err(self.mismatch("a boolean")),
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val, E> {
        self.integer(i128::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val, E> {
        self.integer(i128::from(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Val, E> {
        self.integer(v)
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Val, E> {
        self.integer(i128::try_from(v).unwrap_or(i128::MAX))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Val, E> {
        self.float(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Val, E> {
        match self.kind {
            Kind::Text => Ok(Val::Text(v.to_string())),
            Kind::Reasoning => Reasoning::from_effort_name(v)
                .map(Val::Reasoning)
                .ok_or_else(|| {
                    self.wrong(format!(
                        "expected off, low, medium, high or {{budget_tokens: N}}, found {v:?}"
                    ))
                }),
            Kind::Mode => match v {
                "debate" => Ok(Val::Mode(Mode::Debate)),
                "baseline" => Ok(Val::Mode(Mode::Baseline)),
                other => Err(self.wrong(format!(
                    "expected \"debate\" or \"baseline\", found {:?}",
                    other
                ))),
            },
            _ => Err(self.mismatch("a string")),
        }
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Val, E> {
        Err(self.mismatch("bytes"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Val, E> {
        match self.kind {
            Kind::OptFloat => Ok(Val::OptFloat(None)),
            _ => Err(self.mismatch("nothing (null)")),
        }
    }
    fn visit_none<E: de::Error>(self) -> Result<Val, E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Val, A::Error> {
        Err(self.mismatch("a list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val, A::Error> {
        if self.kind != Kind::Reasoning {
            return Err(self.mismatch("a mapping"));
        }
        let mut budget = None;
        while let Some(key) = map.next_key_seed(KeySeed { ctx: self.ctx })? {
            match key {
                Key::Text(name) if name == "budget_tokens" => {
                    let seed = ValueSeed {
                        ctx: self.ctx,
                        path: join(&self.path, "budget_tokens"),
                        kind: Kind::Whole,
                    };
                    if let Val::Whole(n) = map.next_value_seed(seed)? {
                        budget = Some(n);
                    }
                }
                Key::Text(name) => {
                    return Err(self.wrong(format!(
                        "expected {{budget_tokens: N}}, found the key {name:?}"
                    )))
                }
                Key::Other(what) => {
                    return Err(self.wrong(format!(
                        "expected {{budget_tokens: N}}, found {what} as a key"
                    )))
                }
            }
        }
        budget
            .map(|n| Val::Reasoning(Reasoning::Budget(n)))
            .ok_or_else(|| self.wrong("expected {budget_tokens: N}, found an empty mapping".into()))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, _: A) -> Result<Val, A::Error> {
        Err(self.mismatch("a tagged value (YAML tags are not supported)"))
    }
}
