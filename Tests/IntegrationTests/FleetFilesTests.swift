import Foundation
import XCTest

/// The fleet files (Dockerfile, deploy/kubernetes, deploy/ci) cannot run here (no Docker, no
/// cluster): these tests read them and check what can be checked, above all that the exact
/// command line the Kubernetes Job runs is one `nacho bots` accepts.
final class FleetFilesTests: XCTestCase {
    private func text(_ path: String) throws -> String {
        try String(contentsOf: Repository.root.appendingPathComponent(path), encoding: .utf8)
    }

    private func manifest() throws -> (configMap: YAML, job: YAML) {
        let documents = try YAML.documents(try text("deploy/kubernetes/bots-job.yaml"))
        let configMap = try XCTUnwrap(documents.first { $0["kind"]?.string == "ConfigMap" }, "a ConfigMap")
        let job = try XCTUnwrap(documents.first { $0["kind"]?.string == "Job" }, "a Job")
        return (configMap, job)
    }

    private func container(_ job: YAML) throws -> YAML {
        try XCTUnwrap(job["spec"]?["template"]?["spec"]?["containers"]?.items?.first, "a container")
    }

    /// The container's environment as the kubelet builds it: values, ConfigMap keys of this
    /// file, and the completion index from the downward API.
    private func environment(_ container: YAML, configMap: YAML, index: Int) throws -> [String: String] {
        var env: [String: String] = [:]
        for variable in container["env"]?.items ?? [] {
            let name = try XCTUnwrap(variable["name"]?.string)
            if let value = variable["value"]?.string {
                env[name] = value
            } else if let reference = variable["valueFrom"]?["configMapKeyRef"] {
                XCTAssertEqual(reference["name"]?.string, configMap["metadata"]?["name"]?.string, "\(name) refers to the ConfigMap of the file")
                let key = try XCTUnwrap(reference["key"]?.string)
                env[name] = try XCTUnwrap(configMap["data"]?[key]?.string, "ConfigMap key \(key)")
            } else if variable["valueFrom"]?["fieldRef"]?["fieldPath"]?.string == "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
                env[name] = String(index)
            } else {
                XCTFail("\(name): a source this test does not know")
            }
        }
        return env
    }

    /// Kubernetes' `$(VAR)` expansion in command and args (`$$` escapes a dollar).
    private func expand(_ argument: String, _ env: [String: String]) -> String {
        var out = ""
        var rest = Substring(argument)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            rest = rest[dollar...]
            if rest.hasPrefix("$$") {
                out += "$"
                rest = rest.dropFirst(2)
            } else if rest.hasPrefix("$("), let close = rest.firstIndex(of: ")"), let value = env[String(rest[rest.index(rest.startIndex, offsetBy: 2)..<close])] {
                out += value
                rest = rest[rest.index(after: close)...]
            } else {
                out += "$"
                rest = rest.dropFirst()
            }
        }
        return out + rest
    }

    private func value(after flag: String, in arguments: [String]) -> String? {
        guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    func testKubernetesManifestIsAnIndexedJobOfNachoBots() throws {
        let (configMap, job) = try manifest()
        XCTAssertEqual(job["apiVersion"]?.string, "batch/v1")
        let spec = try XCTUnwrap(job["spec"])
        XCTAssertEqual(spec["completionMode"]?.string, "Indexed")
        XCTAssertEqual(spec["completions"]?.string, "4")
        XCTAssertEqual(spec["parallelism"]?.string, "4")
        XCTAssertEqual(spec["backoffLimitPerIndex"]?.string, "0", "a missed expectation is not retried")
        XCTAssertEqual(spec["template"]?["spec"]?["restartPolicy"]?.string, "Never")

        let container = try container(job)
        XCTAssertEqual(container["command"]?.strings, ["nacho", "bots"])
        let args = try XCTUnwrap(container["args"]?.strings)
        XCTAssertEqual(value(after: "--stats", in: args), "-", "statistics go to stdout, for the log pipeline")
        XCTAssertEqual(value(after: "--index", in: args), "$(JOB_COMPLETION_INDEX)")
        XCTAssertTrue(args.contains("--expect"))

        // Every $(VAR) must be defined, or the kubelet passes it to nacho literally.
        let env = try environment(container, configMap: configMap, index: 0)
        for argument in args where argument.contains("$(") {
            XCTAssertFalse(expand(argument, env).contains("$("), "\(argument) is not defined in the container's env")
        }
        XCTAssertNotNil(container["resources"]?["requests"]?["cpu"]?.string)
        XCTAssertNotNil(container["resources"]?["requests"]?["memory"]?.string)
        // The Dockerfile's numeric user.
        let dockerfile = try text("Dockerfile")
        let user = try XCTUnwrap(job["spec"]?["template"]?["spec"]?["securityContext"]?["runAsUser"]?.string)
        XCTAssertTrue(dockerfile.contains("\nUSER \(user):"), "runAsUser \(user) is the image's USER")
    }

    /// The exact command line of the Job, as the kubelet would run it in pod 2, through
    /// `nacho bots --dry-run`: accepted, and planning pod 2's member numbers.
    func testKubernetesCommandLineIsAcceptedByBotsDryRun() throws {
        // ArgumentParser answers --help after an unknown subcommand with the root's help and
        // exit 0, so the usage line tells whether `bots` exists; without it the Job cannot run.
        let help = try Nacho.run(["bots", "--help"], timeout: 30)
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertTrue(help.stdout.contains("USAGE: nacho bots"), "nacho bots --help: \(help.stdout.prefix(300))")
        let (configMap, job) = try manifest()
        let container = try container(job)
        let index = 2
        let env = try environment(container, configMap: configMap, index: index)
        let command = try XCTUnwrap(container["command"]?.strings) + (container["args"]?.strings ?? [])
        let argv = command.map { expand($0, env) }
        XCTAssertEqual(argv.first, "nacho")

        let run = try Nacho.run(Array(argv.dropFirst()) + ["--dry-run"], timeout: 30, environment: env)
        XCTAssertEqual(run.status, 0, "nacho \(argv.dropFirst().joined(separator: " ")) --dry-run: \(run.stderr)")

        let perPod = ["--video-publishers", "--audio-publishers", "--subscribers"].compactMap { value(after: $0, in: argv).flatMap(Int.init) }.reduce(0, +)
        let base = try XCTUnwrap(Int(env["NACHO_MEMBER_BASE"] ?? ""))
        XCTAssertGreaterThan(perPod, 0)
        let first = base + index * perPod, last = first + perPod - 1
        XCTAssertTrue(run.stdout.contains(String(first)), "pod \(index) starts at member \(first): \(run.stdout)")
        XCTAssertTrue(run.stdout.contains(String(last)), "pod \(index) ends at member \(last): \(run.stdout)")
    }

    func testCIExampleRunsFourIndexesAndReportsOnAllOfThem() throws {
        let workflow = try XCTUnwrap(try YAML.documents(try text("deploy/ci/github-actions-bots.yml")).first)
        let jobs = try XCTUnwrap(workflow["jobs"])
        let bots = try XCTUnwrap(jobs["bots"])
        XCTAssertEqual(bots["strategy"]?["matrix"]?["index"]?.strings, ["0", "1", "2", "3"])
        XCTAssertEqual(bots["strategy"]?["fail-fast"]?.string, "false")
        XCTAssertEqual(bots["env"]?["JOB_COMPLETION_INDEX"]?.string, "${{ matrix.index }}")
        let steps = try XCTUnwrap(bots["steps"]?.items)
        let script = try XCTUnwrap(steps.compactMap { $0["run"]?.string }.first { $0.contains(" bots ") })
        XCTAssertTrue(script.contains("--stats -"))
        let upload = try XCTUnwrap(steps.first { $0["uses"]?.string?.hasPrefix("actions/upload-artifact@") == true })
        XCTAssertEqual(upload["if"]?.string, "always()", "statistics are uploaded also when expectations missed")

        // The same bots flags as the Kubernetes Job: one fleet, two ways to run it.
        let (_, job) = try manifest()
        let kubernetesFlags = Set(try XCTUnwrap(try container(job)["args"]?.strings).filter { $0.hasPrefix("--") })
        let ciFlags = Set(script.split(whereSeparator: { $0.isWhitespace }).map(String.init).filter { $0.hasPrefix("--") && $0 != "--rm" && $0 != "--network" })
        XCTAssertEqual(ciFlags, kubernetesFlags)

        let report = try XCTUnwrap(jobs["report"])
        XCTAssertEqual(report["needs"]?.strings, ["image", "bots"])
        XCTAssertEqual(report["if"]?.string, "always()")
        let reportScript = try XCTUnwrap(report["steps"]?.items?.compactMap { $0["run"]?.string }.first { $0.contains(" report ") })
        XCTAssertTrue(reportScript.contains("report stats/*.jsonl"))
        XCTAssertTrue(reportScript.contains("--expect"))
        XCTAssertTrue(reportScript.contains("--html report.html"))
    }

    func testDockerfileBuildsWithBootstrapsLibrariesAndShipsTheirRuntimes() throws {
        let dockerfile = try text("Dockerfile")
        XCTAssertTrue(dockerfile.contains("ARG SWIFT_IMAGE=swift:6.3-bookworm"))
        XCTAssertTrue(dockerfile.contains("ARG RUNTIME_IMAGE=debian:bookworm-slim"))
        XCTAssertTrue(dockerfile.contains("FROM ${SWIFT_IMAGE} AS build"))
        XCTAssertTrue(dockerfile.contains("swift build -c release --product nacho --static-swift-stdlib"))
        XCTAssertTrue(dockerfile.contains("ENTRYPOINT [\"nacho\"]"))

        // The build stage installs every media-stack package Scripts/bootstrap installs.
        let bootstrap = try text("Scripts/bootstrap")
        let mediaLine = try XCTUnwrap(bootstrap.split(separator: "\n").first { $0.contains("# media stack") })
        let packages = mediaLine.split(separator: "#")[0].split(whereSeparator: { $0.isWhitespace }).map(String.init)
        XCTAssertTrue(packages.contains("libvpx-dev"), "read the media stack line: \(packages)")
        let words = Set(dockerfile.split(whereSeparator: { $0.isWhitespace || $0 == "\\" }).map(String.init))
        for package in packages {
            XCTAssertTrue(words.contains(package), "the build stage lacks \(package) (Scripts/bootstrap installs it)")
        }
        // And the runtime stage one runtime library for each -dev package.
        let runtime = ["libssl-dev": "libssl3", "libsrtp2-dev": "libsrtp2-1", "libopus-dev": "libopus0", "libvpx-dev": "libvpx7",
                       "libasound2-dev": "libasound2", "libv4l-dev": "libv4l-0"]
        for package in packages where package.hasSuffix("-dev") {
            let library = try XCTUnwrap(runtime[package], "no runtime library known for \(package): add it to the Dockerfile and here")
            XCTAssertTrue(words.contains(library), "the runtime stage lacks \(library)")
        }
    }
}
