import Foundation
import HostRunner
import KVM
import Payload
import XCTest

final class LeakTests: XCTestCase {
    /// 500 create/run/destroy cycles in one process: open descriptors and mapped memory come
    /// back to where they started.
    func testFiveHundredRunsLeakNothing() throws {
        let system = try KVMHost.system()
        let image = try KVMHost.build("hello")
        var options = RunOptions()
        options.memory = 16 << 20
        // Warm up once so lazily created process state (thread pools, the kick handler) exists.
        _ = try Runner.run(image, options: options, system: system)
        let descriptors = try openDescriptors()
        let kvmDescriptorsBefore = try kvmDescriptors()
        let mappings = try mappedRegions()
        let bytes = try mappedBytes()
        let kvmBefore = try kvmMappings()
        for cycle in 0..<500 {
            let result = try Runner.run(image, options: options, system: system)
            if !result.passed { return XCTFail("cycle \(cycle): \(result.failures)") }
        }
        // Every VM, vCPU and guest_memfd descriptor is gone; the total never grew (libdispatch
        // opens and closes eventfds and timerfds of its own as threads come and go).
        XCTAssertEqual(try kvmDescriptors(), kvmDescriptorsBefore, "KVM descriptors after 500 runs")
        XCTAssertLessThanOrEqual(try openDescriptors(), descriptors, "open descriptors after 500 runs")
        // Thread stacks and allocator arenas may come and go; guest memory must not stay.
        XCTAssertLessThanOrEqual(try mappedRegions(), mappings + 8, "mapped regions after 500 runs")
        // KVM mappings (guest_memfd, kvm_run) must all be gone: exactly as many as before.
        XCTAssertEqual(try kvmMappings(), kvmBefore, "KVM mappings after 500 runs")
        // glibc caches up to 40 MiB of exited threads' stacks and other tests' threads come and
        // go; a leak of guest memory would show as 16 MiB per run (8 GiB over 500 runs).
        XCTAssertLessThanOrEqual(try mappedBytes(), bytes + (192 << 20), "mapped bytes after 500 runs")
    }

    private func openDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    private func mappedRegions() throws -> Int {
        try String(contentsOfFile: "/proc/self/maps", encoding: .utf8).split(separator: "\n").count
    }

    /// Descriptors of /dev/kvm and of the anonymous inodes KVM hands out (kvm-vm, kvm-vcpu,
    /// kvm-gmem).
    private func kvmDescriptors() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { entry in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry) else { return nil }
            return target.contains("kvm") ? target : nil
        }.sorted()
    }

    private func kvmMappings() throws -> Int {
        try String(contentsOfFile: "/proc/self/maps", encoding: .utf8).split(separator: "\n").filter { $0.contains("kvm") }.count
    }

    private func mappedBytes() throws -> UInt64 {
        try String(contentsOfFile: "/proc/self/maps", encoding: .utf8).split(separator: "\n").reduce(0) { total, line in
            let bounds = line.split(separator: " ")[0].split(separator: "-").compactMap { UInt64($0, radix: 16) }
            return bounds.count == 2 ? total + (bounds[1] - bounds[0]) : total
        }
    }
}
