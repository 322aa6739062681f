// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Enlighten",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "enlighten", targets: ["enlighten"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
    ],
    targets: [
        // The KVM uapi this project needs; the system header (Linux 6.1) predates guest_memfd.
        .target(name: "CKVM"),
        // Typed wrappers over /dev/kvm: system, VM, vCPU, guest_memfd, exits.
        .target(name: "KVM", dependencies: ["CKVM"]),
        // The one guest-physical range type (exact past 2^64) and hex formatting.
        .target(name: "GuestPhysical"),
        // Pure encode/decode of the three conversion interfaces. No I/O.
        .target(name: "GuestABI", dependencies: ["GuestPhysical"]),
        // nasm + ld.lld drivers, ELF reader, images, population plans, firmware tables.
        .target(name: "Payload", dependencies: ["GuestPhysical", .product(name: "Crypto", package: "swift-crypto")]),
        // Launch measurements (SEV, SEV-ES, SEV-SNP digests, TDX MRTD).
        .target(
            name: "Measurement",
            dependencies: [
                "GuestPhysical", "Payload", .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // Machine layout, population, conversion service, transports, exit loop.
        .target(name: "HostRunner", dependencies: ["KVM", "GuestABI", "GuestPhysical", "Payload"]),
        // Scenario catalogue, expectations, verdicts and reporters.
        .target(name: "Conformance", dependencies: ["HostRunner", "Payload", "GuestABI", "GuestPhysical"]),
        .executableTarget(
            name: "enlighten",
            dependencies: [
                "KVM", "GuestABI", "GuestPhysical", "Payload", "Measurement", "HostRunner", "Conformance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The raw-ioctl floor `enlighten bench` compares the runner against.
        .executableTarget(name: "enlighten-floor", path: "Benchmarks/Floor"),

        // Helpers shared by the test targets (the fuzz tests' seeded generator).
        .target(name: "TestSupport", path: "Tests/Support"),

        .testTarget(name: "KVMTests", dependencies: ["KVM", "CKVM"]),
        .testTarget(name: "GuestPhysicalTests", dependencies: ["GuestPhysical"]),
        .testTarget(name: "GuestABITests", dependencies: ["GuestABI", "GuestPhysical", "TestSupport"]),
        .testTarget(name: "PayloadTests", dependencies: ["GuestPhysical", "Payload", "TestSupport"]),
        .testTarget(name: "MeasurementTests", dependencies: ["GuestPhysical", "Measurement", "Payload", "TestSupport"]),
        .testTarget(name: "HostRunnerTests", dependencies: ["HostRunner", "KVM", "Payload", "GuestABI", "GuestPhysical", "TestSupport"]),
        .testTarget(name: "ConformanceTests", dependencies: ["Conformance", "HostRunner", "GuestPhysical", "Payload", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["HostRunner", "GuestPhysical", "Payload", "KVM", "TestSupport"]),
    ]
)
