//! A synthetic snapshot of any size, for the transform + load benchmark (`orglake
//! bench-load`): accounts, instances, AMIs, users and credential-report lines are staged the
//! way extraction stages them (rows -> record batches -> the staging sinks), then committed
//! by [`crate::run::commit`], the same code a real run commits with. No AWS is involved.

use std::collections::BTreeMap;
use std::time::Instant;

use arrow::datatypes::{DataType, Field};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::discover::AccountRecord;
use crate::error::{Error, Result};
use crate::lake::batch::staged_rows_to_batch;
use crate::lake::columns::StagedRow;
use crate::lake::sink;
use crate::lake::{Lake, S3Options};
use crate::run::{Committed, Extracted, commit, new_run_id, open_staging, staging_sink};
use crate::schema::table;
use crate::sources::credential_report::ReportLine;
use crate::sources::ec2::{IMAGES_PER_CALL, ImageRow, InstanceRow, PAGE_SIZE};
use crate::sources::iam_users::{AccessKey, SigningCertificate, UserRow};
use crate::status::{StageOutcome, status};

/// Regions the synthetic instances are spread over.
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"];
/// Distinct AMIs per account and region.
const IMAGES_PER_REGION: usize = 5;

/// How big the synthetic snapshot is.
#[derive(Debug, Clone, Copy)]
pub struct SyntheticSize {
    /// Accounts in the organization.
    pub accounts: usize,
    /// EC2 instances, spread over the accounts and four regions.
    pub instances: usize,
    /// IAM users, spread over the accounts (each also a credential-report line).
    pub users: usize,
}

/// What the benchmark measured.
#[derive(Debug, Serialize)]
pub struct LoadReport {
    /// Seconds to generate the rows and stage them as extraction does (rows -> Arrow ->
    /// local staging Parquet).
    pub stage_seconds: f64,
    /// Seconds to commit: the DataFusion transforms, the lake's Parquet, the CSV exports
    /// and the manifest.
    pub commit_seconds: f64,
    /// Rows -> Arrow per staging table, apart from generating the rows and writing Parquet:
    /// the conversion every extracted row goes through.
    pub to_arrow: Vec<ToArrow>,
    /// Each phase of the commit: seconds and peak memory.
    pub commit_phases: Vec<super::Phase>,
    /// Rows written per table.
    pub table_rows: BTreeMap<String, u64>,
    /// Input rows (instances + users + report lines) committed per second.
    pub rows_per_second: f64,
}

/// How fast one staging table's rows became record batches.
#[derive(Debug, Serialize)]
pub struct ToArrow {
    /// The staging table.
    pub table: &'static str,
    /// Rows converted.
    pub rows: usize,
    /// Seconds spent in [`staged_rows_to_batch`], on one core.
    pub seconds: f64,
    /// `rows / seconds`.
    pub rows_per_second: f64,
}

/// The organization id of every synthetic run.
pub const SYNTHETIC_ORGANIZATION: &str = "o-synthetic0";

/// Fails when the lake holds a run of any organization but the synthetic one: synthetic
/// rows must never mix with a real inventory.
pub(crate) async fn refuse_a_real_lake(lake: &Lake, warehouse: &str) -> Result<()> {
    let ctx = crate::query::session(lake).await?;
    let sql = format!(
        "SELECT DISTINCT organization_id FROM raw_runs \
         WHERE organization_id IS DISTINCT FROM '{SYNTHETIC_ORGANIZATION}' ORDER BY organization_id"
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let mut real = Vec::new();
    for batch in &batches {
        let values = crate::lake::text_values(batch.column(0))?;
        real.extend(values.iter().map(|v| v.unwrap_or("(none)").to_string()));
    }
    if real.is_empty() {
        return Ok(());
    }
    Err(Error::config(
        "warehouse",
        warehouse,
        format!(
            "holds runs of organization {}; bench-load writes synthetic data only into an empty lake or one \
             it wrote itself: give it another --warehouse",
            real.join(", ")
        ),
    ))
}

/// Stages a synthetic snapshot of `size` and commits it into the configured warehouse.
/// With `keep_inputs`, what the commit's transforms read and run is first written there
/// ([`super::transform_inputs`]), so that another engine can run the same SQL.
pub async fn bench_load(
    config: &Config,
    size: SyntheticSize,
    keep_inputs: Option<&std::path::Path>,
) -> Result<LoadReport> {
    let started_at = Utc::now();
    let as_of = config.as_of.unwrap_or(started_at);
    let snapshot_date = as_of.format("%Y-%m-%d").to_string();
    let run_id = new_run_id(started_at);
    let lake = Lake::open(&config.warehouse, &S3Options::from_config(config), None, true).await?;
    refuse_a_real_lake(&lake, &config.warehouse).await?;
    let (staging_dir, staging) = open_staging().await?;

    let clock = Instant::now();
    let accounts: Vec<AccountRecord> = (0..size.accounts).map(account).collect();
    let generator = Generator { as_of, size };
    let images = size.accounts * REGIONS.len() * IMAGES_PER_REGION;
    // Batches as large as extraction sends them: a DescribeInstances page, one
    // DescribeImages call's AMIs, one account's users and credential report.
    let per_account = size.users.div_ceil(size.accounts.max(1)).max(1);
    let in_flight = config.max_concurrency;
    let image_account = |i: usize| i / (REGIONS.len() * IMAGES_PER_REGION);
    // A user's credential-report line comes in the same account's report.
    let user_pages = extraction_pages(size.users, |i| generator.account_of(i), per_account, in_flight);
    let to_arrow = vec![
        stage(
            &staging,
            "ec2_instances_extracted",
            &run_id,
            &extraction_pages(
                size.instances,
                |i| generator.account_of(i),
                PAGE_SIZE as usize,
                in_flight,
            ),
            |i| generator.instance(i),
        )
        .await?,
        stage(
            &staging,
            "ec2_images_extracted",
            &run_id,
            &extraction_pages(images, image_account, IMAGES_PER_CALL, in_flight),
            |i| generator.image(i),
        )
        .await?,
        stage(&staging, "iam_users_extracted", &run_id, &user_pages, |i| {
            generator.user(i)
        })
        .await?,
        stage(&staging, "iam_credential_report_extracted", &run_id, &user_pages, |i| {
            generator.report_line(i)
        })
        .await?,
    ];
    let outcomes = outcomes(&accounts, started_at);
    let stage_seconds = clock.elapsed().as_secs_f64();

    if let Some(dir) = keep_inputs {
        let staged = crate::sources::staged_tables(config, as_of);
        let kept = super::transform_inputs::KeptRun {
            run_id: &run_id,
            as_of,
            retention_cutoff: as_of - Duration::days(i64::from(config.terminated_retention_days)),
            accounts: &accounts,
            outcomes: &outcomes,
            staging_dir: staging_dir.path(),
            staged: &staged,
        };
        super::transform_inputs::keep(&kept, dir).await?;
    }

    let clock = Instant::now();
    let extracted = Extracted {
        run_id: &run_id,
        started_at,
        as_of,
        snapshot_date: &snapshot_date,
        organization_id: SYNTHETIC_ORGANIZATION,
        accounts: &accounts,
        outcomes,
        staging: &staging,
    };
    let Committed { table_rows, phases, .. } = commit(config, None, &lake, extracted).await?;
    let commit_seconds = clock.elapsed().as_secs_f64();
    Ok(LoadReport {
        stage_seconds,
        commit_seconds,
        to_arrow,
        commit_phases: phases,
        table_rows,
        rows_per_second: (size.instances + 2 * size.users) as f64 / commit_seconds,
    })
}

/// Streams generated rows into a staging table through its sink, one batch per page of
/// `pages` (row numbers, as [`extraction_pages`] orders them), and times their conversion
/// to Arrow (the rows are made first, the Parquet is written by the sink's task: neither is
/// counted).
async fn stage<T: StagedRow>(
    staging: &Lake,
    name: &'static str,
    run_id: &str,
    pages: &[Vec<usize>],
    row: impl Fn(usize) -> T,
) -> Result<ToArrow> {
    let staged = table(name)?;
    let (sink, task) = staging_sink(staging, name, run_id)?;
    let mut seconds = 0.0;
    let mut count = 0;
    for page in pages {
        let rows: Vec<T> = page.iter().map(|&i| row(i)).collect();
        let clock = Instant::now();
        let batch = staged_rows_to_batch(staged, run_id, &rows)?;
        seconds += clock.elapsed().as_secs_f64();
        sink.send_batch(batch).await?;
        count += rows.len();
    }
    drop(sink);
    sink::join(task).await?;
    Ok(ToArrow {
        table: name,
        rows: count,
        seconds,
        rows_per_second: count as f64 / seconds.max(f64::EPSILON),
    })
}

/// Rows `0..count` in the batches extraction would send them in: each batch (a page of at
/// most `page_rows`) of one account (`account_of`), the pages of `in_flight` accounts at a
/// time interleaved (as that many accounts are scanned at once), the accounts in order.
fn extraction_pages(
    count: usize,
    account_of: impl Fn(usize) -> usize,
    page_rows: usize,
    in_flight: usize,
) -> Vec<Vec<usize>> {
    let mut per_account: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..count {
        per_account.entry(account_of(i)).or_default().push(i);
    }
    let accounts: Vec<Vec<usize>> = per_account.into_values().collect();
    let mut pages = Vec::new();
    for group in accounts.chunks(in_flight.max(1)) {
        let mut chunks: Vec<_> = group.iter().map(|rows| rows.chunks(page_rows.max(1))).collect();
        loop {
            let before = pages.len();
            pages.extend(
                chunks
                    .iter_mut()
                    .filter_map(|chunk| chunk.next().map(<[usize]>::to_vec)),
            );
            if pages.len() == before {
                break;
            }
        }
    }
    pages
}

fn account_id(index: usize) -> String {
    format!("{:012}", 100_000_000_000 + index)
}

fn account(index: usize) -> AccountRecord {
    let id = account_id(index);
    let owner = format!("team{}@example.com", index % 50);
    AccountRecord {
        account_name: Some(format!("account-{index}")),
        email: Some(format!("aws+{index}@example.com")),
        arn: Some(format!(
            "arn:aws:organizations::000000000000:account/{SYNTHETIC_ORGANIZATION}/{id}"
        )),
        status: Some("ACTIVE".into()),
        joined_method: Some("CREATED".into()),
        joined_at: Some(DateTime::UNIX_EPOCH + Duration::days(19_000 + (index % 365) as i64)),
        ou_id: format!("ou-syn0-{:08}", index % 20),
        ou_path: format!("Root/Workloads/Team{}", index % 20),
        owner_tag: Some(owner.clone()),
        tags: [
            ("owner".to_string(), owner),
            ("cost-center".to_string(), format!("cc-{}", index % 7)),
        ]
        .into_iter()
        .collect(),
        scanned: true,
        account_id: id,
    }
}

/// Every stage of every account succeeded, every region scanned.
fn outcomes(accounts: &[AccountRecord], at: DateTime<Utc>) -> Vec<StageOutcome> {
    let outcome = |account: &AccountRecord, stage: &'static str, region: Option<&str>| StageOutcome {
        account_id: account.account_id.clone(),
        stage,
        region: region.map(str::to_string),
        status: status::OK,
        error_code: None,
        message: None,
        started_at: at,
        finished_at: at,
    };
    accounts
        .iter()
        .flat_map(|account| {
            let mut rows = vec![
                outcome(account, "assume_role", None),
                outcome(account, "iam_users", None),
                outcome(account, "credential_report", None),
            ];
            rows.extend(REGIONS.iter().map(|region| outcome(account, "ec2", Some(region))));
            rows
        })
        .collect()
}

/// Makes the rows: realistic values in the columns the transforms use, and a plausible
/// value of the column's type everywhere else (every nullable column filled: the worst case
/// for size).
struct Generator {
    as_of: DateTime<Utc>,
    size: SyntheticSize,
}

impl Generator {
    /// [`Self::at`] as a map value, in the column's unit (microseconds).
    fn time(&self, hours_ago: usize) -> Value {
        Value::from(self.at(hours_ago).map(|t| t.timestamp_micros()))
    }

    /// A row of `table` with every column filled generically, then `fixed` on top.
    fn row(&self, table_name: &str, i: usize, fixed: Value) -> Map<String, Value> {
        let staged = table(table_name).expect("staging table");
        let mut row: Map<String, Value> = staged
            .file_schema
            .fields()
            .iter()
            .filter(|f| f.name() != "run_id")
            .map(|f| (f.name().clone(), self.value_of(f, i)))
            .collect();
        if let Value::Object(fixed) = fixed {
            row.extend(fixed);
        }
        row
    }

    fn value_of(&self, field: &Field, i: usize) -> Value {
        match field.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Value::String(format!("{}-{}", field.name(), i % 97))
            }
            DataType::Boolean => Value::Bool(i % 3 == 0),
            DataType::Int64 | DataType::Int32 => json!(i % 400),
            DataType::Timestamp(..) => self.time(i % 5000),
            DataType::Map(..) => json!({"team": format!("t{}", i % 13), "env": "prod"}),
            DataType::List(item) => Value::Array(vec![self.value_of(item, i), self.value_of(item, i + 1)]),
            DataType::Struct(fields) => {
                Value::Object(fields.iter().map(|f| (f.name().clone(), self.value_of(f, i))).collect())
            }
            _ => Value::Null,
        }
    }

    fn account_of(&self, i: usize) -> usize {
        i % self.size.accounts
    }

    /// `hours_ago` hours before the snapshot.
    fn at(&self, hours_ago: usize) -> Option<DateTime<Utc>> {
        Some(self.as_of - Duration::hours(hours_ago as i64))
    }

    /// A plausible value of a nullable text column.
    fn text(name: &str, i: usize) -> Option<String> {
        Some(format!("{name}-{}", i % 97))
    }

    fn instance(&self, i: usize) -> InstanceRow {
        let account = self.account_of(i);
        let region = REGIONS[(i / self.size.accounts) % REGIONS.len()];
        let state = match i % 20 {
            0 => "terminated",
            1 | 2 => "stopped",
            _ => "running",
        };
        let owner = format!("team{}@example.com", account % 50);
        let name = format!("app-{}", i % 1000);
        let text = |column: &str| Self::text(column, i);
        InstanceRow {
            account_id: account_id(account),
            region: region.to_string(),
            availability_zone: Some(format!("{region}a")),
            instance_id: format!("i-{i:017x}"),
            instance_type: text("instance_type"),
            state: Some(state.to_string()),
            state_reason: text("state_reason"),
            state_transition_reason: text("state_transition_reason"),
            state_transition_time: self.at(i % 5000),
            launch_time: self.at(i % 5000),
            terminated_at: (state == "terminated").then(|| self.at(24 * (i % 30))).flatten(),
            image_id: Some(format!("ami-{:017x}", i % IMAGES_PER_REGION)),
            platform: None,
            platform_details: text("platform_details"),
            architecture: text("architecture"),
            vpc_id: text("vpc_id"),
            subnet_id: text("subnet_id"),
            private_ip: text("private_ip"),
            public_ip: text("public_ip"),
            private_dns: text("private_dns"),
            public_dns: text("public_dns"),
            key_name: text("key_name"),
            iam_instance_profile_arn: text("iam_instance_profile_arn"),
            security_group_ids: vec![format!("sg-{}", i % 97), format!("sg-{}", (i + 1) % 97)],
            security_group_names: vec![format!("group-{}", i % 97), format!("group-{}", (i + 1) % 97)],
            root_device_type: text("root_device_type"),
            root_device_name: text("root_device_name"),
            monitoring_state: text("monitoring_state"),
            lifecycle: None,
            tenancy: text("tenancy"),
            tags: [("Name".to_string(), name.clone()), ("owner".to_string(), owner.clone())].into(),
            owner_tag: Some(owner),
            owner_tag_key: Some("owner".into()),
            name_tag: Some(name),
        }
    }

    fn image(&self, i: usize) -> ImageRow {
        let per_account = REGIONS.len() * IMAGES_PER_REGION;
        let (account, rest) = (i / per_account, i % per_account);
        let text = |column: &str| Self::text(column, i);
        ImageRow {
            account_id: account_id(account),
            region: REGIONS[rest / IMAGES_PER_REGION].to_string(),
            image_id: format!("ami-{:017x}", rest % IMAGES_PER_REGION),
            name: text("name"),
            description: text("description"),
            owner_id: text("owner_id"),
            owner_alias: text("owner_alias"),
            platform_details: text("platform_details"),
            architecture: text("architecture"),
            image_type: text("image_type"),
            state: text("state"),
            creation_date: self.at(i % 5000),
            deprecation_time: None,
            public: Some(i % 3 == 0),
            root_device_type: text("root_device_type"),
            tags: [
                ("team".to_string(), format!("t{}", i % 13)),
                ("env".to_string(), "prod".to_string()),
            ]
            .into(),
        }
    }

    fn user(&self, i: usize) -> UserRow {
        let account = self.account_of(i);
        let name = format!("user-{i}");
        let text = |column: &str| Self::text(column, i);
        let key = |n: usize| AccessKey {
            access_key_id: format!("AKIA{:016}", i * 2 + n),
            status: Some("Active".into()),
            created_at: self.at(24 * (i % 200)),
            age_days: Some((i % 200) as i64),
            last_used_at: self.at(i % 5000),
            last_used_service: text("last_used_service"),
            last_used_region: text("last_used_region"),
        };
        UserRow {
            account_id: account_id(account),
            account_alias: text("account_alias"),
            arn: Some(format!("arn:aws:iam::{}:user/{name}", account_id(account))),
            user_name: name,
            user_id: text("user_id"),
            path: Some("/".into()),
            tags: [
                ("team".to_string(), format!("t{}", i % 13)),
                ("env".to_string(), "prod".to_string()),
            ]
            .into(),
            groups: vec![format!("group-{}", i % 97), format!("group-{}", (i + 1) % 97)],
            created_at: self.at(i % 5000),
            age_days: Some((i % 400) as i64),
            mfa_enabled: Some(i % 3 == 0),
            mfa_device_count: Some((i % 2) as i64),
            console_access: Some(i % 2 == 0),
            password_created_at: self.at(i % 5000),
            password_age_days: Some((i % 400) as i64),
            password_last_used: self.at(i % 5000),
            last_activity: self.at(i % 5000),
            access_keys: Some(vec![key(0), key(1)]),
            active_key_id: Some(format!("AKIA{:016}", i * 2)),
            active_key_age_days: Some((i % 200) as i64),
            active_key_last_used_at: self.at(i % 5000),
            active_key_count: Some(2),
            signing_certificates: Some(vec![SigningCertificate {
                certificate_id: format!("cert-{i}"),
                status: Some("Active".into()),
                uploaded_at: self.at(i % 5000),
            }]),
            detail_error: None,
        }
    }

    /// A report line as `parse` makes it.
    fn report_line(&self, i: usize) -> ReportLine {
        let account = self.account_of(i);
        let name = format!("user-{i}");
        let columns = self.row(
            "iam_credential_report_extracted",
            i,
            json!({
                "account_id": account_id(account),
                "user": name,
                "arn": format!("arn:aws:iam::{}:user/{name}", account_id(account)),
                "is_root": false,
                "password_enabled": i % 2 == 0,
                "mfa_active": i % 5 != 0,
                "access_key_1_active": true,
                "access_key_1_last_rotated": self.time(24 * (i % 200)),
                "access_key_2_active": false,
                "special_values": {},
                "extra_columns": {},
            }),
        );
        let mut line = ReportLine::default();
        for (column, value) in columns {
            line.set(&column, value);
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::batch::rows_to_batch;
    use arrow::array::AsArray;

    /// Typed columns and serde_arrow make the same batch of the same rows, for every row type
    /// with typed columns (nulls, empty lists and maps included).
    fn same_batch_both_ways<T: StagedRow>(table_name: &str, rows: &[T]) {
        let staged = table(table_name).unwrap();
        let typed = staged_rows_to_batch(staged, "run", rows).unwrap();
        let through_serde = rows_to_batch(staged, "run", rows).unwrap();
        assert_eq!(typed.num_rows(), rows.len());
        assert_eq!(typed.schema(), through_serde.schema(), "{table_name}");
        for (field, (a, b)) in typed
            .schema()
            .fields()
            .iter()
            .zip(typed.columns().iter().zip(through_serde.columns()))
        {
            assert_eq!(a.to_data(), b.to_data(), "{table_name}.{}", field.name());
        }
    }

    /// A generator of a snapshot of this size, as of a fixed day.
    fn generator(accounts: usize, instances: usize, users: usize) -> Generator {
        Generator {
            as_of: DateTime::UNIX_EPOCH + Duration::days(20_000),
            size: SyntheticSize {
                accounts,
                instances,
                users,
            },
        }
    }

    #[test]
    fn typed_columns_make_the_batch_serde_arrow_makes() {
        let generator = generator(7, 60, 30);
        let mut instances: Vec<InstanceRow> = (0..60).map(|i| generator.instance(i)).collect();
        instances[1].tags.clear();
        instances[1].security_group_ids.clear();
        instances[2].availability_zone = None;
        instances[2].launch_time = None;
        same_batch_both_ways("ec2_instances_extracted", &instances);
        let mut images: Vec<ImageRow> = (0..20).map(|i| generator.image(i)).collect();
        images[0].public = None;
        same_batch_both_ways("ec2_images_extracted", &images);
        let mut users: Vec<UserRow> = (0..30).map(|i| generator.user(i)).collect();
        users[0].access_keys = None;
        users[1].signing_certificates = Some(Vec::new());
        users[2].mfa_enabled = None;
        users[2].age_days = None;
        same_batch_both_ways("iam_users_extracted", &users);
    }

    #[test]
    fn a_schema_column_the_row_lacks_or_cannot_fill_is_an_error() {
        use arrow::datatypes::FieldRef;
        use std::sync::Arc;
        let generator = generator(1, 2, 0);
        let rows: Vec<InstanceRow> = (0..2).map(|i| generator.instance(i)).collect();
        let error_of = |name: &str, data_type: DataType| {
            let field: FieldRef = Arc::new(Field::new(name, data_type, true));
            InstanceRow::columns(&rows, &[field]).unwrap().unwrap_err().to_string()
        };
        let err = error_of("not_a_field", DataType::Utf8);
        assert!(err.contains("InstanceRow has no field for column not_a_field"), "{err}");
        let err = error_of("region", DataType::Int64);
        assert!(err.contains("column region is Int64"), "{err}");
    }

    /// The account ids (min, max) of each row group of every staged file of `table_name`,
    /// in file order, and the rows of the files.
    fn row_group_accounts(staging_dir: &std::path::Path, table_name: &str) -> (Vec<(String, String)>, i64) {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        use parquet::file::statistics::Statistics;
        let mut files: Vec<_> = std::fs::read_dir(staging_dir.join(table_name))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        let (mut ranges, mut rows) = (Vec::new(), 0);
        for path in files {
            let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
            let schema = reader.metadata().file_metadata().schema_descr_ptr();
            let column = (0..schema.num_columns())
                .find(|&i| schema.column(i).name() == "account_id")
                .unwrap();
            for group in reader.metadata().row_groups() {
                rows += group.num_rows();
                let Some(Statistics::ByteArray(stats)) = group.column(column).statistics() else {
                    panic!("no account_id statistics in a staged row group");
                };
                let text = |v: &parquet::data_type::ByteArray| v.as_utf8().unwrap().to_string();
                ranges.push((text(stats.min_opt().unwrap()), text(stats.max_opt().unwrap())));
            }
        }
        (ranges, rows)
    }

    /// Each page holds rows of one account, at most a page's worth; every row is sent once;
    /// the accounts in flight take turns, a group of them at a time.
    #[test]
    fn extraction_pages_hold_one_account_each_and_interleave_the_accounts_in_flight() {
        let account_of = |i: usize| i % 5;
        // 5 accounts of 7 rows each (the last two of 6), pages of 3, 2 accounts in flight.
        let pages = extraction_pages(33, account_of, 3, 2);
        let mut seen: Vec<usize> = pages.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, (0..33).collect::<Vec<_>>());
        for page in &pages {
            assert!(!page.is_empty() && page.len() <= 3, "{page:?}");
            assert!(page.iter().all(|&i| account_of(i) == account_of(page[0])), "{page:?}");
        }
        let accounts: Vec<usize> = pages.iter().map(|page| account_of(page[0])).collect();
        // Accounts 0 and 1 take turns (three pages each), then 2 and 3 (three pages and
        // two), then 4 alone.
        assert_eq!(accounts, vec![0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 4, 4]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn staged_rows_are_written_in_row_groups_of_narrow_ascending_account_ranges() {
        let (staging_dir, staging) = open_staging().await.unwrap();
        // 40 accounts; each page of instances mixes them (i % accounts), as a window of
        // held batches holds every account many times over.
        let generator = generator(40, 60_000, 40);
        let table_name = "ec2_instances_extracted";
        let (sink, task) = staging_sink(&staging, table_name, "run").unwrap();
        let instances: Vec<InstanceRow> = (0..60_000).map(|i| generator.instance(i)).collect();
        for page in instances.chunks(PAGE_SIZE as usize) {
            sink.send(page).await.unwrap();
        }
        drop(sink);
        assert_eq!(sink::join(task).await.unwrap(), 60_000);
        let (ranges, rows) = row_group_accounts(staging_dir.path(), table_name);
        assert_eq!(rows, 60_000);
        // Within one window (until the account ids start again from the lowest), the row
        // groups' ranges ascend without overlapping; each spans a few accounts, not all 40.
        let windows = 1 + ranges.windows(2).filter(|pair| pair[1].0 < pair[0].1).count();
        assert!(windows <= 1 + rows as usize / 20_000, "{windows} windows: {ranges:?}");
        for (min, max) in &ranges {
            let span = max[max.len() - 3..].parse::<u32>().unwrap() - min[min.len() - 3..].parse::<u32>().unwrap();
            assert!(span < 40 / 2, "a row group spans accounts {min} to {max}");
        }
        // The rows as they were sent, whatever their order in the file.
        let ctx = crate::query::new_session();
        crate::transform::register_staged(
            &ctx,
            &staging,
            &[table_name],
            &crate::transform::buckets::AccountRange::all(),
        )
        .await
        .unwrap();
        let counted = ctx
            .sql(
                "SELECT count(DISTINCT instance_id) AS n, count(DISTINCT account_id) AS a FROM ec2_instances_extracted",
            )
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let n = counted[0]
            .column(0)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .value(0);
        let a = counted[0]
            .column(1)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .value(0);
        assert_eq!((n, a), (60_000, 40));
    }
}
