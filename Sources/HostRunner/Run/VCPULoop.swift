import Foundation
import GuestABI
import GuestPhysical
import KVM
import Payload

/// Runs one vCPU until it stops: KVM_RUN, each exit to its handler, the end recorded. One
/// instance per vCPU thread; nothing here is shared between vCPUs except the `RunControl`.
/// What an exit means is decided elsewhere: the report channel (`ReportChannel`), the run's
/// platform and its vCPU half (`GuestPlatform`, `PlatformVCPU`), the transports; what is
/// kept, by the `EventRecorder`.
///
/// The loop is the hot path: each exit costs ~20 µs of kernel time here, so the handling of
/// the common exits (port I/O) does no allocation beyond appending to buffers sized up front.
final class VCPULoop {
    let index: Int
    let vcpu: VCPU
    let machine: Machine
    let control: RunControl
    let recorder: EventRecorder
    let channel: ReportChannel
    /// This vCPU's half of the run's platform.
    let guest: any PlatformVCPU
    /// The ports, MSRs and MMIO this vCPU reaches, raw or through its platform's protocol.
    let devices: GuestDevices
    /// The last exception the runner injected, for the guest's own report of it.
    var injected: InjectedException? {
        get { devices.injected }
        set { devices.injected = newValue }
    }
    private(set) var exits = 0
    /// The machine's request sites as a list: at most four per interface, so a debug exit
    /// finds its site by a scan of a few words instead of hashing the address.
    let sites: [(address: UInt64, instruction: RequestInstruction)]
    /// The rewritten site whose guest instruction is being single-stepped with its breakpoint
    /// off (`VCPULoop+Trapped`), until the step's debug exit re-arms it.
    var steppingOver: SiteStep?
    /// A firmware volume on a platform whose paging-off accesses are private (SEV): the vCPU
    /// is single-stepped until it turns paging on (`VCPULoop+Firmware`).
    var watchingForPaging = false

    init(index: Int, vcpu: VCPU, machine: Machine, control: RunControl) {
        self.index = index
        self.vcpu = vcpu
        self.machine = machine
        self.control = control
        sites = machine.sites.map { (address: $0.key, instruction: $0.value) }
        recorder = EventRecorder(vcpu: index, budget: control.budget, logLimit: machine.options.logLimit, stream: control.stream)
        let population = machine.population
        channel = ReportChannel(
            vcpu: index, memory: machine.memory, malformedRecordLimit: machine.options.malformedRecordLimit,
            plannedChecksum: { population.plannedChecksum(gpa: $0, length: $1) }, symbolize: machine.symbolize)
        guest = machine.platform.makeVCPU(index: index, options: machine.options)
        let service = machine.service
        let vmmMemory = VMMMemory(
            memory: machine.memory, ram: service.ram, sharedAlias: machine.platform.sharedMemoryAlias, state: { service.state(at: $0) })
        devices = GuestDevices(
            vcpu: index, channel: channel, recorder: recorder, platform: guest, cpuid: machine.cpuid[index],
            hypervisorMSRs: VCPUMSRs(vcpu: vcpu), vmmMemory: vmmMemory, board: machine.board,
            progress: machine.board.map { _ in FirmwareProgress(until: machine.options.until) })
    }

    var events: [RunEvent] { recorder.events }
    var checksums: [RunResult.ChecksumComparison] { recorder.checksums }
    var validations: ValidationTally { recorder.validations }
    var failuresNotKept: Int { recorder.failuresNotKept }
    var droppedLog: Int { recorder.droppedLogBytes }
    var unservedNotLogged: Int { recorder.unservedNotLogged }

    /// Runs until the guest reports an exit code or something stops it.
    func run() {
        control.register(vcpu.kicker)
        if let failed = startWatchingForPaging() { return finish(failed) }
        // --catch-cpuid looks at each instruction at the step exit before it; the first has none.
        if machine.options.catchRawCPUID, let finished = catchRawCPUID() {
            if !recorder.pending.isEmpty { recorder.keepPending() }
            return finish(finished)
        }
        while true {
            let exit: VCPUExit
            do {
                exit = try vcpu.run()
            } catch {
                return finish(.stopped(.hostError("\(error)")))
            }
            exits += 1
            let finished = handle(exit)
            if let progress = devices.progress {
                progress.observe(recorder.pending, vcpu: index, recorder: recorder)
                if finished == nil, let milestone = progress.stopAt {
                    // The run's --until milestone: the vCPU ends there, as asked.
                    recorder.keepPending()
                    channel.flush(recorder)
                    return recorder.finish(.stoppedAtMilestone(vcpu: index, milestone))
                }
            }
            if !recorder.pending.isEmpty { recorder.keepPending() }
            if let finished { return finish(finished) }
        }
    }

    private func handle(_ exit: VCPUExit) -> VCPUFinish? {
        switch exit {
        case .io(let port, let direction, let size, let count, let data):
            if guest.interceptsPortIO { return interceptPort(port, isIn: direction == .in, size: size) }
            return devices.port(port, isWrite: direction == .out, size: size, count: count, data: data)
        case .hlt:
            return serveHalt()
        case .shutdown:
            return .stopped(.tripleFault(at: location() + shutdownHint()))
        case .mmio(let address, let isWrite, _, let data):
            if let board = machine.board, board.claims(mmio: address) { return serveBoard(mmio: address, isWrite: isWrite, data: data) }
            if let views = machine.service.views { return enforce(ViewAddress(address), isWrite: isWrite, data: data, views: views) }
            return outsideMemory(ViewAddress(address), isWrite: isWrite, data: data, views: nil)
        case .memoryFault(let flags, let gpa, let size):
            return serveImplicit(gpa: gpa, size: size, toPrivate: flags.contains(.private))
        case .debug(let exception, let pc, let dr6, _):
            return serveDebug(exception: exception, pc: pc, dr6: dr6)
        case .rdmsr(let msr):
            if let rule = machine.platform.rawMSRRule, !rule.reachesKVM(msr.index, isWrite: false) {
                return interceptMSR(msr, isWrite: false)
            }
            // Not an MSR of the platform's: refused, which injects #GP as hardware would.
            if let value = devices.readMSR(msr.index) { msr.data = value } else { msr.error = 1 }
            return nil
        case .wrmsr(let msr):
            if let rule = machine.platform.rawMSRRule, !rule.reachesKVM(msr.index, isWrite: true) {
                return interceptMSR(msr, isWrite: true)
            }
            if !devices.writeMSR(msr.index, value: msr.data) { msr.error = 1 }
            return nil
        case .hypercall(let call):
            call.ret = KVMHypercallHost.serve(
                nr: call.nr, a0: call.argument(0), a1: call.argument(1), a2: call.argument(2), longMode: call.isLongMode, cpl: 0,
                transport: .native, service: machine.service, vcpu: index, events: &recorder.pending)
            return nil
        case .internalError(let suberror, _):
            // KVM's emulator has no INT1: where it runs every instruction (kvm_pvm here) an
            // ICEBP is an emulation failure, not the #DB it is on hardware.
            if suberror == Self.emulationFailure, let rip = icebpAtRIP() {
                return deliverDebugException(payload: 0, skip: 1, cause: "ICEBP at \(machine.symbolize(rip))")
            }
            if suberror == Self.emulationFailure, let next = emulateControlInstruction() { return next }
            if suberror == Self.emulationFailure, let next = serveAtEmulationFailure() { return next }
            return .stopped(.internalError(suberror: suberror, at: location()))
        case .failEntry(let reason, _):
            return .stopped(.failedEntry(reason: reason))
        case .interrupted:
            if control.timedOut { return .stopped(.timeout(after: control.timeout, at: location())) }
            return nil
        case .systemEvent(let event):
            return .stopped(.hostError("system event \(event.type)"))
        case .unsupported(let reason):
            return .stopped(.unsupportedExit(reason: reason, at: location()))
        }
    }

    /// KVM_INTERNAL_ERROR_EMULATION (Linux uapi kvm.h).
    static let emulationFailure: UInt32 = 1

    private func finish(_ finished: VCPUFinish) {
        channel.flush(recorder)
        switch finished {
        case .exited(let code): recorder.finish(.exited(vcpu: index, code: code))
        case .stopped(let reason): recorder.finish(.stopped(vcpu: index, reason))
        }
    }

    /// Where the vCPU is, symbolized against the image (linear address = CS base + RIP).
    func location() -> String {
        guard let regs = try? vcpu.getRegisters(), let sregs = try? vcpu.getSpecialRegisters() else { return "an unknown RIP" }
        return machine.symbolize(sregs.cs.base &+ regs.rip)
    }

    /// The platform's hint for a triple fault at the current RIP (empty when it has none).
    private func shutdownHint() -> String {
        guard let regs = try? vcpu.getRegisters(), let sregs = try? vcpu.getSpecialRegisters() else { return "" }
        return guest.shutdownHint(regs: regs, sregs: sregs, machine: machine)
    }
}
