import Foundation
import XCTest

@testable import KVM

/// Skips (with a printed reason) only when /dev/kvm does not exist; any other failure fails.
func requireKVM(file: StaticString = #filePath, line: UInt = #line) throws {
    guard FileManager.default.fileExists(atPath: "/dev/kvm") else {
        print("KVMTests: skipping, /dev/kvm is absent on this machine")
        throw XCTSkip("/dev/kvm is absent", file: file, line: line)
    }
}

/// Why this host's kernel gives a default VM no guest_memfd the tests can map (MMAP |
/// INIT_SHARED on a memslot of its own), or nil when it does. Asked of a throw-away VM.
func guestMemfdMissing() throws -> String? {
    let vm = try KVMSystem.open().createVM()
    guard try vm.check(.guestMemfd) != 0 else { return "KVM_CAP_GUEST_MEMFD is 0 on a default VM" }
    let flags = GuestMemfdFlags(rawValue: UInt64(try vm.check(.guestMemfdFlags)))
    guard flags.isSuperset(of: [.mmap, .initShared]) else { return "KVM_CAP_GUEST_MEMFD_FLAGS is \(flags.rawValue), without MMAP|INIT_SHARED" }
    return nil
}

/// Skips (with a printed reason) a test that exercises guest_memfd itself where the kernel
/// has none for a default VM, the same rule as for /dev/kvm; every other test runs on the
/// memfd stand-in there.
func requireGuestMemfd(file: StaticString = #filePath, line: UInt = #line) throws {
    try requireKVM(file: file, line: line)
    if let why = try guestMemfdMissing() {
        print("KVMTests: skipping, this kernel gives a default VM no guest_memfd (\(why))")
        throw XCTSkip("no guest_memfd: \(why)", file: file, line: line)
    }
}

/// A real-mode guest: a default VM with one memslot of `memorySize` bytes at GPA 0 — guest
/// RAM as the runner's backings keep it (guest_memfd(MMAP | INIT_SHARED) bound with
/// memslot2, or the memfd stand-in behind a plain memslot; by default whichever this host
/// offers, as the runner chooses), or an anonymous shared mapping with the plain memslot
/// ioctl — code written at `entry`, one vCPU with CS base 0 and RIP = `entry`.
/// FIX_HYPERCALL_INSN is disabled so guest code is never patched.
final class RealModeGuest {
    enum Backing {
        case guestMemfd, memfd, anonymous
        /// What the runner would use here: guest_memfd where a default VM can have it.
        static func host() throws -> Backing { try guestMemfdMissing() == nil ? .guestMemfd : .memfd }
        /// Every file-backed kind this host can give (both where guest_memfd exists).
        static func files() throws -> [Backing] { try guestMemfdMissing() == nil ? [.guestMemfd, .memfd] : [.memfd] }
    }
    static let entry: UInt64 = 0x1000
    let system: KVMSystem
    let vm: VirtualMachine
    /// RAM's file (nil for `.anonymous`).
    let file: (any GuestMemoryFile)?
    let memory: any HostMemory
    let vcpu: VCPU

    convenience init(code: [UInt8], memorySize: UInt64 = 0x10000) throws {
        try self.init(code: code, memorySize: memorySize, backing: try Backing.host())
    }

    init(code: [UInt8], memorySize: UInt64 = 0x10000, backing: Backing) throws {
        system = try KVMSystem.open()
        vm = try system.createVM()
        try vm.disableQuirks(.fixHypercallInstruction)
        switch backing {
        case .guestMemfd:
            let memfd = try vm.createGuestMemfd(size: memorySize, flags: [.mmap, .initShared])
            let mapping = try memfd.map()
            try vm.setUserMemoryRegion2(
                slot: 0, flags: .guestMemfd, guestPhysicalAddress: 0, size: memorySize,
                userspaceAddress: mapping.userspaceAddress, guestMemfd: memfd, guestMemfdOffset: 0)
            self.file = memfd
            self.memory = mapping
        case .memfd:
            let memfd = try Memfd(name: "kvmtests", size: memorySize)
            let mapping = try memfd.map()
            try vm.setUserMemoryRegion(slot: 0, guestPhysicalAddress: 0, size: memorySize, userspaceAddress: mapping.userspaceAddress)
            self.file = memfd
            self.memory = mapping
        case .anonymous:
            let mapping = try MemoryMapping(size: Int(memorySize))
            try vm.setUserMemoryRegion(
                slot: 0, guestPhysicalAddress: 0, size: memorySize, userspaceAddress: mapping.userspaceAddress)
            self.file = nil
            self.memory = mapping
        }
        try memory.write(code, at: Int(Self.entry))
        vcpu = try vm.createVCPU(id: 0)
        var sregs = try vcpu.getSpecialRegisters()
        sregs.cs.base = 0
        sregs.cs.selector = 0
        try vcpu.setSpecialRegisters(sregs)
        var regs = Registers()
        regs.rip = Self.entry
        regs.rflags = 0x2
        try vcpu.setRegisters(regs)
    }

    /// Runs until an exit that is not `.interrupted`.
    func run() throws -> VCPUExit {
        while true {
            let exit = try vcpu.run()
            if case .interrupted = exit { continue }
            return exit
        }
    }

    /// Runs and expects an OUT of one byte to `port`; returns the byte.
    func expectOut(port expected: UInt16, file: StaticString = #filePath, line: UInt = #line) throws -> UInt8? {
        let exit = try run()
        guard case let .io(port, direction, size, count, data) = exit else {
            XCTFail("expected io exit, got \(exit)", file: file, line: line)
            return nil
        }
        XCTAssertEqual(port, expected, file: file, line: line)
        XCTAssertEqual(direction, .out, file: file, line: line)
        XCTAssertEqual(size, 1, file: file, line: line)
        XCTAssertEqual(count, 1, file: file, line: line)
        return data[0]
    }

    func expectHalt(file: StaticString = #filePath, line: UInt = #line) throws {
        let exit = try run()
        guard case .hlt = exit else { return XCTFail("expected hlt, got \(exit)", file: file, line: line) }
    }
}
