# orglake container image: the release binary on a distroless base (glibc, CA certificates,
# a non-root user; no shell, no package manager).
#
#   docker build -t orglake .
#   docker run --rm -e AWS_REGION=us-east-1 -e AWS_ACCESS_KEY_ID ... orglake run --ou-id ou-...
#
# The builder runs the same command as a local release build (`cargo build --release
# --locked`, the profile in Cargo.toml), so the image holds the binary you test locally,
# with its symbol table stripped (122 MB instead of 151 MB; the code is the same).
# Expected image size: about 150 MB (the binary plus the distroless cc base).
# The Rust version below is Cargo.toml's rust-version (a test keeps them equal).

FROM rust:1.95-slim-bookworm AS build
# make: jemalloc, the binary's allocator, is built from its C sources.
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so that a source change does not rebuild them: build the locked
# dependency graph against placeholder sources, then the real ones.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir -p pipeline/bin && echo 'fn main() {}' > pipeline/bin/main.rs && touch pipeline/lib.rs \
    && cargo build --release --locked --bin orglake \
    && rm -rf pipeline
COPY pipeline pipeline
COPY schemas schemas
COPY queries queries
COPY examples examples
COPY glue glue
COPY tests/golden tests/golden
RUN touch pipeline/bin/main.rs pipeline/lib.rs \
    && cargo build --release --locked --bin orglake \
    && strip --strip-all -o /orglake target/release/orglake

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /orglake /usr/local/bin/orglake
# The staging directory of a run (its local Parquet before the transform) lives in /tmp.
ENV TMPDIR=/tmp
USER nonroot
ENTRYPOINT ["/usr/local/bin/orglake"]
CMD ["--help"]
