# haulout in a container: one static binary on a distroless base.
#
#   docker build -t haulout .
#   docker run --rm -p 31415:31415 -p 31416:31416 -v haulout-data:/data haulout
#
# The default command runs a whole local network (haulout devnet) with its data
# in /data, the aggregator on port 31415 and the publisher on port 31416.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a change to the sources does not download them again.
COPY go.mod go.sum ./
RUN go mod download
# .git comes along on purpose: the toolchain stamps the source revision into
# the binary, and `haulout version` prints it.
COPY . .
# The web pages embed the codec built for browsers (GOOS=js), made here.
RUN go generate ./web \
 && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/haulout ./cmd/haulout \
 && mkdir -p /out/data

# distroless/static: CA certificates, tzdata and a non-root user, no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/haulout /haulout
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME /data
EXPOSE 31415 31416
ENTRYPOINT ["/haulout"]
# Inside a container the services must listen on every interface, not only on
# the container's own loopback, for the published ports to reach them.
CMD ["devnet", "--dir", "/data", "--aggregator-addr", "0.0.0.0:31415", "--publisher-addr", "0.0.0.0:31416"]
