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

    /// Nothing of a run outlives `Runner.run`: checked the moment it returns, with no grace
    /// period. A run without a probe used to reprobe the host, and the probe's 250 ms timer
    /// kept each probe vCPU's kvm_run mapping (and so its VM) alive after the run returned.
    func testNothingOfARunOutlivesItsReturn() throws {
        let system = try KVMHost.system()
        let image = try KVMHost.build("hello")
        var options = RunOptions()
        options.memory = 16 << 20
        _ = try Runner.run(image, options: options, system: system)
        let kvmDescriptorsBefore = try kvmDescriptors()
        let kvmBefore = try kvmMappings()
        for cycle in 0..<3 {
            let result = try Runner.run(image, options: options, system: system)
            XCTAssertTrue(result.passed, "cycle \(cycle): \(result.failures)")
            XCTAssertEqual(try kvmMappings(), kvmBefore, "KVM mappings right after run \(cycle) returned")
            XCTAssertEqual(try kvmDescriptors(), kvmDescriptorsBefore, "KVM descriptors right after run \(cycle) returned")
        }
    }

    /// The whole of /proc/self/maps. procfs files report size 0, and
    /// `String(contentsOfFile:)` then returns only its first read (4 KiB, ~60 of ~220 lines):
    /// read until end of file instead.
    private func maps() throws -> [Substring] {
        let handle = try XCTUnwrap(FileHandle(forReadingAtPath: "/proc/self/maps"))
        defer { try? handle.close() }
        let text = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        // Sanity: a Swift test process maps its own binary, libc and the heap, well past 4 KiB.
        XCTAssertGreaterThan(text.utf8.count, 4096, "read all of /proc/self/maps")
        return lines
    }

    private func openDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    private func mappedRegions() throws -> Int {
        try maps().count
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
        try maps().filter { $0.contains("kvm") }.count
    }

    private func mappedBytes() throws -> UInt64 {
        try maps().reduce(0) { total, line in
            let bounds = line.split(separator: " ")[0].split(separator: "-").compactMap { UInt64($0, radix: 16) }
            return bounds.count == 2 ? total + (bounds[1] - bounds[0]) : total
        }
    }
}
