//! The setting flags of a command, built from the library's declarations
//! ([`orglake::config::SETTINGS`]): a command names the setting groups it takes, and gets
//! exactly their flags, each group under its own help heading.

use std::marker::PhantomData;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, value_parser};
use orglake::config::settings::{self, Group};
use orglake::config::{Config, ConfigLayers, SETTINGS, Setting, Shape};
use orglake::error::Result;

/// The setting groups of one command.
pub trait Takes {
    /// The groups, in help order.
    const GROUPS: &'static [Group];
}

/// `run` and `tag`: every group.
#[derive(Debug)]
pub struct Run;
impl Takes for Run {
    const GROUPS: &'static [Group] = settings::RUN;
}

/// The commands that only read a lake.
#[derive(Debug)]
pub struct LakeOnly;
impl Takes for LakeOnly {
    const GROUPS: &'static [Group] = settings::LAKE_ONLY;
}

/// `glue sync`.
#[derive(Debug)]
pub struct GlueSync;
impl Takes for GlueSync {
    const GROUPS: &'static [Group] = settings::GLUE_SYNC;
}

/// `bench-load`.
#[derive(Debug)]
pub struct BenchLoad;
impl Takes for BenchLoad {
    const GROUPS: &'static [Group] = settings::BENCH_LOAD;
}

/// The config file and the setting flags given to a command that takes the groups of `C`.
#[derive(Debug)]
pub struct SettingFlags<C> {
    config_file: Option<PathBuf>,
    flags: ConfigLayers,
    takes: PhantomData<C>,
}

impl<C> Default for SettingFlags<C> {
    fn default() -> Self {
        SettingFlags {
            config_file: None,
            flags: ConfigLayers::default(),
            takes: PhantomData,
        }
    }
}

impl<C> SettingFlags<C> {
    /// The configuration: the config file < the environment (read through `env`) < these
    /// flags, validated.
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let file = match &self.config_file {
            Some(path) => ConfigLayers::from_file(path)?,
            None => ConfigLayers::default(),
        };
        file.overlay(ConfigLayers::from_env(env))
            .overlay(self.flags.clone())
            .resolve()
    }
}

/// The flag of one setting.
fn flag(setting: &'static Setting) -> Arg {
    let mut help = setting.help_line();
    if setting.default.is_some() || setting.default_doc.is_some() {
        help.push_str(&format!(" [default: {}]", setting.default_text().replace('`', "")));
    }
    if !setting.env.is_empty() {
        help.push_str(&format!(" [env: {}]", setting.env.join(", ")));
    }
    let arg = Arg::new(setting.key)
        .long(setting.flag.trim_start_matches("--"))
        .value_name(setting.value_name)
        .help(help);
    match setting.shape {
        Shape::One => arg.action(ArgAction::Set),
        Shape::List => arg.action(ArgAction::Append),
        Shape::Switch => arg
            .action(ArgAction::Set)
            .value_name("BOOL")
            .num_args(0..=1)
            .default_missing_value("true"),
    }
}

impl<C: Takes> clap::Args for SettingFlags<C> {
    fn augment_args(mut cmd: clap::Command) -> clap::Command {
        cmd = cmd.arg(
            Arg::new("config")
                .long("config")
                .env("ORGLAKE_CONFIG")
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .help("TOML config file (examples/orglake.toml); environment variables and flags override it"),
        );
        for group in C::GROUPS {
            cmd = cmd.next_help_heading(group.heading());
            for setting in SETTINGS.iter().filter(|s| s.group == *group) {
                cmd = cmd.arg(flag(setting));
            }
        }
        cmd.next_help_heading(None::<&'static str>)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl<C: Takes> clap::FromArgMatches for SettingFlags<C> {
    fn from_arg_matches(matches: &ArgMatches) -> std::result::Result<Self, clap::Error> {
        let mut flags = SettingFlags::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> std::result::Result<(), clap::Error> {
        if let Some(path) = matches.get_one::<PathBuf>("config") {
            self.config_file = Some(path.clone());
        }
        for setting in SETTINGS.iter().filter(|s| C::GROUPS.contains(&s.group)) {
            if let Some(values) = matches.get_many::<String>(setting.key) {
                self.flags.set_flag(setting.key, values.cloned().collect());
            }
        }
        Ok(())
    }
}
