import CKVM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A vCPU file descriptor and its mmapped kvm_run: registers, CPUID, guest debug, and
/// KVM_RUN.
///
/// Owns its descriptor (closed once in `deinit`) and, through `RunState`, the kvm_run
/// mapping (unmapped once, when the VCPU and all its kickers are gone). Keeps its VM alive.
///
/// Thread-safety: not `Sendable`. Use a vCPU from one thread at a time; another thread
/// stops it only through `kicker`.
public final class VCPU {
    /// The raw vCPU descriptor; valid for the lifetime of this object.
    public let fd: Int32
    /// The vCPU id given to KVM_CREATE_VCPU.
    public let id: UInt32
    /// The VM this vCPU belongs to.
    public let vm: VirtualMachine
    let state: RunState
    var runPointer: UnsafeMutablePointer<kvm_run> { state.run }
    /// Register classes currently shared through kvm_run (KVM_CAP_SYNC_REGS).
    public private(set) var syncedRegisters: SyncRegisterSet = []

    init(adopting fd: Int32, id: UInt32, mmapSize: Int, vm: VirtualMachine) throws(KVMError) {
        guard kickHandlerStatus == 0 else {
            closeOwned(fd)
            throw .system(call: "sigaction(SIGUSR1)", errno: kickHandlerStatus)
        }
        // SAFETY: maps the vCPU's kvm_run (offset 0, mmap size from KVM); checked before use.
        let address = mmap(nil, mmapSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, ckvm_is_map_failed(address) == 0 else {
            let code = errno
            closeOwned(fd)
            throw .mmap(what: "kvm_run", errno: code)
        }
        self.fd = fd
        self.id = id
        self.vm = vm
        // SAFETY: the mapping is at least sizeof(kvm_run) bytes and page aligned.
        self.state = RunState(run: address.bindMemory(to: kvm_run.self, capacity: 1), mapSize: mmapSize)
    }

    deinit { closeOwned(fd) }

    /// A Sendable handle another thread uses to stop this vCPU's KVM_RUN.
    public var kicker: VCPUKicker { VCPUKicker(state: state) }

    // MARK: KVM_RUN

    /// KVM_RUN: runs the vCPU until the next exit and decodes it. EINTR (a kick or any
    /// signal) becomes `.interrupted` and clears immediate_exit; EFAULT/EHWPOISON with
    /// exit_reason KVM_EXIT_MEMORY_FAULT becomes `.memoryFault`. No allocation.
    public func run() throws(KVMError) -> VCPUExit {
        state.enter()
        // SAFETY: KVM_RUN takes no argument; kvm_run is mapped for the life of `state`.
        let result = ckvm_ioctl_value(fd, CKVM_IOCTL_RUN, 0)
        // errno only when it failed: read before leave(), which makes no call that sets it.
        let code = result >= 0 ? 0 : errno
        state.leave()
        if result >= 0 { return VCPUExit.decode(runPointer) }
        switch code {
        case EINTR:
            // SAFETY: kvm_run is mapped while `state` lives; only this vCPU's thread touches it.
            ckvm_run_set_immediate_exit(runPointer, 0)
            return .interrupted
        case EFAULT, EHWPOISON:
            // SAFETY: kvm_run is mapped while `state` lives; only this vCPU's thread touches it.
            if runPointer.pointee.exit_reason == UInt32(CKVM_EXIT_MEMORY_FAULT) { return VCPUExit.memoryFault(runPointer) }
        default:
            break
        }
        throw .ioctl(name: "KVM_RUN", errno: code)
    }

    // MARK: registers

    // Sync-mode accessors read and write kvm_run->s.regs directly. KVM writes that area only
    // inside KVM_RUN, which this vCPU's (single) thread is not in while it calls these.

    /// KVM_GET_REGS, or a read of kvm_run->s.regs.regs when registers are synced.
    public func getRegisters() throws(KVMError) -> Registers { try load(generalRegisters) }

    /// KVM_SET_REGS, or a write of kvm_run->s.regs.regs plus KVM_SYNC_X86_REGS in
    /// kvm_dirty_regs when registers are synced (KVM loads them on the next KVM_RUN).
    public func setRegisters(_ registers: Registers) throws(KVMError) { try store(registers, generalRegisters) }

    /// Reads, changes and writes back the general registers: in place in kvm_run (no
    /// ioctl) when synced, else KVM_GET_REGS + KVM_SET_REGS.
    public func modifyRegisters(_ body: (inout Registers) -> Void) throws(KVMError) {
        if syncedRegisters.contains(.registers) {
            // The per-exit path of every trapped request: no RegisterClass, no copy.
            // SAFETY: kvm_run is mapped while `state` lives; only this vCPU's thread touches it.
            body(&ckvm_run_sync_regs(runPointer).pointee)
            runPointer.pointee.kvm_dirty_regs |= SyncRegisterSet.registers.rawValue
            return
        }
        try modify(generalRegisters, body)
    }

    /// KVM_GET_SREGS, or a read of kvm_run->s.regs.sregs when special registers are synced.
    public func getSpecialRegisters() throws(KVMError) -> SpecialRegisters {
        // SAFETY: kvm_run is mapped while `state` lives; only this vCPU's thread touches it.
        if syncedRegisters.contains(.specialRegisters) { return ckvm_run_sync_sregs(runPointer).pointee }
        return try load(specialRegisters)
    }

    /// KVM_SET_SREGS, or a write of kvm_run->s.regs.sregs plus KVM_SYNC_X86_SREGS in
    /// kvm_dirty_regs when special registers are synced.
    public func setSpecialRegisters(_ registers: SpecialRegisters) throws(KVMError) {
        try store(registers, specialRegisters)
    }

    /// Reads, changes and writes back the special registers: in place in kvm_run when
    /// synced, else KVM_GET_SREGS + KVM_SET_SREGS.
    public func modifySpecialRegisters(_ body: (inout SpecialRegisters) -> Void) throws(KVMError) {
        try modify(specialRegisters, body)
    }

    /// One register class: its ioctls, and its block in kvm_run->s.regs for sync mode.
    private struct RegisterClass<Value> {
        let sync: SyncRegisterSet
        let shared: UnsafeMutablePointer<Value>
        let empty: Value
        let get: (request: UInt, name: String)
        let set: (request: UInt, name: String)
    }

    private var generalRegisters: RegisterClass<Registers> {
        // SAFETY: kvm_run is mapped while `state` lives; only this vCPU's thread touches it.
        RegisterClass(
            sync: .registers, shared: ckvm_run_sync_regs(runPointer), empty: Registers(),
            get: (CKVM_IOCTL_GET_REGS, "KVM_GET_REGS"), set: (CKVM_IOCTL_SET_REGS, "KVM_SET_REGS"))
    }

    private var specialRegisters: RegisterClass<SpecialRegisters> {
        // SAFETY: kvm_run is mapped while `state` lives; only this vCPU's thread touches it.
        RegisterClass(
            sync: .specialRegisters, shared: ckvm_run_sync_sregs(runPointer), empty: SpecialRegisters(),
            get: (CKVM_IOCTL_GET_SREGS, "KVM_GET_SREGS"), set: (CKVM_IOCTL_SET_SREGS, "KVM_SET_SREGS"))
    }

    private func load<Value>(_ registers: RegisterClass<Value>) throws(KVMError) -> Value {
        // SAFETY: kvm_run is mapped while `state` lives; only this vCPU's thread touches it.
        if syncedRegisters.contains(registers.sync) { return registers.shared.pointee }
        var value = registers.empty
        _ = try kvmIoctl(fd, registers.get.request, registers.get.name, &value)
        return value
    }

    private func store<Value>(_ value: Value, _ registers: RegisterClass<Value>) throws(KVMError) {
        if syncedRegisters.contains(registers.sync) {
            // SAFETY: kvm_run is mapped while `state` lives; only this vCPU's thread touches it.
            registers.shared.pointee = value
            runPointer.pointee.kvm_dirty_regs |= registers.sync.rawValue
            return
        }
        var copy = value
        _ = try kvmIoctl(fd, registers.set.request, registers.set.name, &copy)
    }

    private func modify<Value>(_ registers: RegisterClass<Value>, _ body: (inout Value) -> Void) throws(KVMError) {
        if syncedRegisters.contains(registers.sync) {
            // SAFETY: kvm_run is mapped while `state` lives; only this vCPU's thread touches it.
            body(&registers.shared.pointee)
            runPointer.pointee.kvm_dirty_regs |= registers.sync.rawValue
            return
        }
        var value = try load(registers)
        body(&value)
        try store(value, registers)
    }

    /// KVM_CAP_SYNC_REGS: from now on KVM copies `set` into kvm_run->s.regs on every exit
    /// (kvm_valid_regs) and loads what is marked in kvm_dirty_regs on entry, so the register
    /// accessors above cost no ioctl. Seeds s.regs once with KVM_GET_REGS/KVM_GET_SREGS.
    /// Throws `.invalidArgument` if the VM does not offer every class in `set`.
    public func enableSyncRegisters(_ set: SyncRegisterSet = [.registers, .specialRegisters]) throws(KVMError) {
        let offered = SyncRegisterSet(rawValue: UInt64(try vm.check(.syncRegs)))
        guard offered.isSuperset(of: set) else {
            throw .invalidArgument("KVM_CAP_SYNC_REGS offers \(offered.rawValue), asked for \(set.rawValue)")
        }
        syncedRegisters = []
        // SAFETY: kvm_run is mapped while `state` lives; only this vCPU's thread touches it.
        if set.contains(.registers) { ckvm_run_sync_regs(runPointer).pointee = try getRegisters() }
        if set.contains(.specialRegisters) { ckvm_run_sync_sregs(runPointer).pointee = try getSpecialRegisters() }
        runPointer.pointee.kvm_dirty_regs = 0
        runPointer.pointee.kvm_valid_regs = set.rawValue
        syncedRegisters = set
    }

    /// Stops sharing registers through kvm_run (flushes pending writes with KVM_SET_REGS/SREGS).
    public func disableSyncRegisters() throws(KVMError) {
        // SAFETY: kvm_run is mapped while `state` lives; only this vCPU's thread touches it.
        let dirty = SyncRegisterSet(rawValue: runPointer.pointee.kvm_dirty_regs)
        let pendingRegisters = ckvm_run_sync_regs(runPointer).pointee
        let pendingSpecial = ckvm_run_sync_sregs(runPointer).pointee
        runPointer.pointee.kvm_valid_regs = 0
        runPointer.pointee.kvm_dirty_regs = 0
        syncedRegisters = []
        if dirty.contains(.registers) { try setRegisters(pendingRegisters) }
        if dirty.contains(.specialRegisters) { try setSpecialRegisters(pendingSpecial) }
    }

    /// KVM_PRE_FAULT_MEMORY: maps the GPA range into the guest's page tables ahead of time
    /// (only where KVM_CAP_PRE_FAULT_MEMORY is set). Returns the bytes not yet done (0 when
    /// the whole range was handled; KVM may stop early, e.g. on a pending signal).
    public func preFaultMemory(gpa: UInt64, size: UInt64) throws(KVMError) -> UInt64 {
        var request = ckvm_pre_fault_memory()
        request.gpa = gpa
        request.size = size
        _ = try kvmIoctl(fd, CKVM_IOCTL_PRE_FAULT_MEMORY, "KVM_PRE_FAULT_MEMORY", &request)
        return request.size
    }

    // MARK: CPUID, MP state, guest debug

    /// KVM_SET_CPUID2: the CPUID leaves the guest sees.
    public func setCPUID(_ entries: [CPUIDEntry]) throws(KVMError) {
        let buffer = CPUIDBuffer(entries: entries)
        _ = try kvmIoctl(fd, CKVM_IOCTL_SET_CPUID2, "KVM_SET_CPUID2", buffer.raw)
    }

    /// KVM_GET_MP_STATE.
    public func getMPState() throws(KVMError) -> MPState {
        var state = kvm_mp_state()
        _ = try kvmIoctl(fd, CKVM_IOCTL_GET_MP_STATE, "KVM_GET_MP_STATE", &state)
        return MPState(rawValue: state.mp_state)
    }

    /// KVM_SET_MP_STATE.
    public func setMPState(_ state: MPState) throws(KVMError) {
        var request = kvm_mp_state(mp_state: state.rawValue)
        _ = try kvmIoctl(fd, CKVM_IOCTL_SET_MP_STATE, "KVM_SET_MP_STATE", &request)
    }

    /// KVM_SET_GUEST_DEBUG: `control` bits and up to 8 debug registers (x86: [0...3] =
    /// DR0-DR3 addresses, [7] = DR7). An empty control turns guest debugging off.
    public func setGuestDebug(control: GuestDebugControl, debugRegisters: [UInt64] = []) throws(KVMError) {
        guard debugRegisters.count <= 8 else { throw .invalidArgument("at most 8 debug registers") }
        var request = kvm_guest_debug()
        request.control = control.rawValue
        withUnsafeMutableBytes(of: &request.arch.debugreg) { raw in
            // SAFETY: at most 8 stores (checked above) into the 8-entry debugreg array.
            for (i, value) in debugRegisters.enumerated() { raw.storeBytes(of: value, toByteOffset: i * 8, as: UInt64.self) }
        }
        _ = try kvmIoctl(fd, CKVM_IOCTL_SET_GUEST_DEBUG, "KVM_SET_GUEST_DEBUG", &request)
    }

    /// KVM_GET_VCPU_EVENTS then KVM_SET_VCPU_EVENTS with `vector` injected as a hardware
    /// exception (with `errorCode` if given), delivered through the guest's IDT on the next
    /// KVM_RUN. `injected` rather than `pending`: without KVM_CAP_EXCEPTION_PAYLOAD KVM
    /// clears `pending` (x86.c kvm_vcpu_ioctl_x86_set_vcpu_events).
    public func injectException(vector: UInt8, errorCode: UInt32? = nil) throws(KVMError) {
        var events = kvm_vcpu_events()
        // SAFETY: the struct matches the ioctl's size (checked by IoctlNumberTests' layout test).
        guard ckvm_ioctl_ptr(fd, CKVM_IOCTL_GET_VCPU_EVENTS, &events) == 0 else { throw .ioctl(name: "KVM_GET_VCPU_EVENTS", errno: errno) }
        events.exception.injected = 1
        events.exception.pending = 0
        events.exception.nr = vector
        events.exception.has_error_code = errorCode == nil ? 0 : 1
        events.exception.error_code = errorCode ?? 0
        events.flags = 0
        // SAFETY: as above.
        guard ckvm_ioctl_ptr(fd, CKVM_IOCTL_SET_VCPU_EVENTS, &events) == 0 else { throw .ioctl(name: "KVM_SET_VCPU_EVENTS", errno: errno) }
    }

    /// KVM_GET_DEBUGREGS, then KVM_SET_DEBUGREGS (api.rst 4.33, 4.34) with DR6 replaced by
    /// `body(DR6)` and the rest as it was. This is the guest's own DR6, what its
    /// `mov reg, dr6` reads, which KVM keeps apart from the breakpoints KVM_SET_GUEST_DEBUG
    /// arms for user space. A #DB user space delivers through KVM_SET_VCPU_EVENTS carries no
    /// payload, so its DR6 must be left here first.
    public func updateGuestDR6(_ body: (UInt64) -> UInt64) throws(KVMError) {
        var registers = kvm_debugregs()
        _ = try kvmIoctl(fd, CKVM_IOCTL_GET_DEBUGREGS, "KVM_GET_DEBUGREGS", &registers)
        registers.dr6 = body(registers.dr6)
        registers.flags = 0
        _ = try kvmIoctl(fd, CKVM_IOCTL_SET_DEBUGREGS, "KVM_SET_DEBUGREGS", &registers)
    }

    /// KVM_SET_GUEST_DEBUG with execute breakpoints at up to four linear `addresses`
    /// (DR0-DR3, global enable, length 1) and ENABLE|USE_HW_BP; an empty list disables debug.
    /// `singleStep` adds KVM_GUESTDBG_SINGLESTEP: the next instruction the vCPU completes ends
    /// in KVM_EXIT_DEBUG with DR6.BS (api.rst 4.38), whatever the guest's RFLAGS.TF.
    public func setHardwareBreakpoints(_ addresses: [UInt64], singleStep: Bool = false) throws(KVMError) {
        guard addresses.count <= 4 else { throw .invalidArgument("x86 has four hardware breakpoints") }
        if addresses.isEmpty, !singleStep { try setGuestDebug(control: []); return }
        var registers = [UInt64](repeating: 0, count: 8)
        for (slot, address) in addresses.enumerated() { registers[slot] = address }
        registers[7] = VCPU.executeBreakpointDR7(slots: addresses.count)
        try setGuestDebug(
            control: singleStep ? [.enable, .useHardwareBreakpoints, .singleStep] : [.enable, .useHardwareBreakpoints],
            debugRegisters: registers)
    }

    /// DR7 for execute breakpoints in slots 0..<slots: bit 10 (reserved, 1), G n = bit 2n+1,
    /// R/W n = 00 (execute), LEN n = 00 (1 byte).
    public static func executeBreakpointDR7(slots: Int) -> UInt64 {
        var dr7: UInt64 = 0x400
        for n in 0..<min(slots, 4) { dr7 |= 1 << UInt64(2 * n + 1) }
        return dr7
    }
}
