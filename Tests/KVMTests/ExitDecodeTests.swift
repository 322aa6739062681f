import CKVM
import XCTest

@testable import KVM

/// Exit decoding against a hand-filled kvm_run, for exits this host cannot produce
/// (hypercall, memory fault, system event): the views must read and write the documented
/// kvm_run offsets.
final class ExitDecodeTests: XCTestCase {
    private var raw: UnsafeMutableRawPointer!
    private var run: UnsafeMutablePointer<kvm_run> { raw.assumingMemoryBound(to: kvm_run.self) }

    override func setUp() {
        raw = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        _ = raw.bindMemory(to: kvm_run.self, capacity: 1)
    }

    override func tearDown() { raw.deallocate() }

    private func setExitReason(_ reason: Int32) { raw.storeBytes(of: UInt32(reason), toByteOffset: 8, as: UInt32.self) }
    private func u64(at offset: Int) -> UInt64 { raw.load(fromByteOffset: offset, as: UInt64.self) }
    private func put(_ value: UInt64, at offset: Int) { raw.storeBytes(of: value, toByteOffset: offset, as: UInt64.self) }

    func testHypercallViewReadsArgumentsAndWritesRet() {
        setExitReason(CKVM_EXIT_HYPERCALL)
        put(12, at: 32) // nr
        put(0x10_0000, at: 40) // args[0] gpa
        put(4, at: 48) // args[1] pages
        put(0x10, at: 56) // args[2] attributes: ENCRYPTED
        put(1, at: 96) // flags: LONG_MODE
        guard case let .hypercall(call) = VCPUExit.decode(run) else { return XCTFail("not a hypercall") }
        XCTAssertEqual(call.nr, 12)
        XCTAssertEqual(call.argument(0), 0x10_0000)
        XCTAssertEqual(call.argument(1), 4)
        XCTAssertEqual(call.argument(2), 0x10)
        XCTAssertTrue(call.isLongMode)
        call.ret = 0xFFFF_FFFF_FFFF_FFEA
        XCTAssertEqual(u64(at: 88), 0xFFFF_FFFF_FFFF_FFEA, "ret lands at kvm_run offset 88")
    }

    func testMemoryFaultDecode() {
        setExitReason(CKVM_EXIT_MEMORY_FAULT)
        put(CKVM_MEMORY_EXIT_FLAG_PRIVATE, at: 32)
        put(0x20_0000, at: 40)
        put(0x1000, at: 48)
        guard case let .memoryFault(flags, gpa, size) = VCPUExit.memoryFault(run) else { return XCTFail() }
        XCTAssertEqual(flags, .private)
        XCTAssertEqual(gpa, 0x20_0000)
        XCTAssertEqual(size, 0x1000)
        guard case .memoryFault = VCPUExit.decode(run) else { return XCTFail("decode agrees") }
    }

    func testMSRViewWritesDataAndError() {
        setExitReason(CKVM_EXIT_X86_RDMSR)
        raw.storeBytes(of: UInt32(2), toByteOffset: 40, as: UInt32.self)
        raw.storeBytes(of: UInt32(0xC001_0130), toByteOffset: 44, as: UInt32.self)
        guard case let .rdmsr(msr) = VCPUExit.decode(run) else { return XCTFail() }
        XCTAssertEqual(msr.index, 0xC001_0130)
        XCTAssertEqual(msr.reason, .unknown)
        msr.data = 0x1234_5678_9ABC_DEF0
        msr.error = 1
        XCTAssertEqual(u64(at: 48), 0x1234_5678_9ABC_DEF0)
        XCTAssertEqual(raw.load(fromByteOffset: 32, as: UInt8.self), 1)
    }

    func testSystemEventInternalErrorAndUnknown() {
        setExitReason(CKVM_EXIT_SYSTEM_EVENT)
        raw.storeBytes(of: UInt32(3), toByteOffset: 32, as: UInt32.self)
        raw.storeBytes(of: UInt32(1), toByteOffset: 36, as: UInt32.self)
        put(0xDEAD, at: 40)
        guard case let .systemEvent(event) = VCPUExit.decode(run) else { return XCTFail() }
        XCTAssertEqual(event.type, 3)
        XCTAssertEqual(event.count, 1)
        XCTAssertEqual(event[0], 0xDEAD)

        setExitReason(CKVM_EXIT_INTERNAL_ERROR)
        raw.storeBytes(of: UInt32(1), toByteOffset: 32, as: UInt32.self)
        raw.storeBytes(of: UInt32(2), toByteOffset: 36, as: UInt32.self)
        put(7, at: 40)
        put(9, at: 48)
        guard case let .internalError(suberror, data) = VCPUExit.decode(run) else { return XCTFail() }
        XCTAssertEqual(suberror, 1)
        XCTAssertEqual(data.count, 2)
        XCTAssertEqual(data[1], 9)

        setExitReason(37) // KVM_EXIT_NOTIFY: not decoded
        guard case .unsupported(37) = VCPUExit.decode(run) else { return XCTFail() }
        setExitReason(CKVM_EXIT_SHUTDOWN)
        guard case .shutdown = VCPUExit.decode(run) else { return XCTFail() }
    }

    func testIOViewPointsAtDataOffset() {
        setExitReason(CKVM_EXIT_IO)
        raw.storeBytes(of: UInt8(0), toByteOffset: 32, as: UInt8.self) // IN
        raw.storeBytes(of: UInt8(2), toByteOffset: 33, as: UInt8.self) // size 2
        raw.storeBytes(of: UInt16(0x510), toByteOffset: 34, as: UInt16.self) // port
        raw.storeBytes(of: UInt32(3), toByteOffset: 36, as: UInt32.self) // count
        put(0x800, at: 40) // data_offset
        guard case let .io(port, direction, size, count, data) = VCPUExit.decode(run) else { return XCTFail() }
        XCTAssertEqual(port, 0x510)
        XCTAssertEqual(direction, .in)
        XCTAssertEqual(size, 2)
        XCTAssertEqual(count, 3)
        XCTAssertEqual(data.count, 6)
        data.store(0xBEEF, width: 2)
        XCTAssertEqual(raw.load(fromByteOffset: 0x800, as: UInt16.self), 0xBEEF)
        XCTAssertEqual(data.load(width: 2), 0xBEEF)
    }

    func testErrorDescriptionsNameTheCall() {
        XCTAssertEqual(KVMError.ioctl(name: "KVM_RUN", errno: 4).description, "KVM_RUN failed: errno 4 (EINTR)")
        XCTAssertEqual(KVMError.ioctl(name: "KVM_RUN", errno: 4).errno, 4)
        XCTAssertNil(KVMError.invalidArgument("x").errno)
        XCTAssertTrue(
            KVMError.encryptOp(command: "KVM_SEV_SNP_LAUNCH_UPDATE", errno: 5, firmwareError: 0x10)
                .description.contains("firmware status 0x10"))
    }
}
