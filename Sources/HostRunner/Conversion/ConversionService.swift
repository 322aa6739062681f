import GuestABI
import GuestPhysical
import KVM
import Synchronization

/// The one place every conversion request ends up, whatever interface or transport carried
/// it: validates the range against guest RAM, updates the exact page-state map, and applies
/// the destructive side of the conversion as the real platforms do.
///
/// Shared by all vCPU threads of a machine; the page-state map and the discards happen under
/// one lock, so concurrent requests for overlapping ranges serialize and the final state is
/// always that of some order of the requests.
public final class ConversionService: Sendable {
    /// How private and shared memory are backed, which decides what a conversion discards.
    enum Backing {
        /// One file (guest_memfd or its memfd stand-in) serves both states at the same GPA
        /// (KVM, SEV-SNP): every flip punches the flipped pages out of it, so neither side's
        /// content survives.
        case unified(any GuestMemoryFile)
        /// TDX: private pages in RAM's file at GPA, shared pages in a separate backing at
        /// GPA | shared bit. Going shared punches the private side; going private drops the
        /// shared side.
        case split(private: any GuestMemoryFile, shared: MemoryMapping)
    }

    private let state: Mutex<PageStateMap>
    private let backing: Backing
    let ram: GPARange
    private let memoryAttributes: VirtualMachine?
    /// Whose rules the guest's half of a page follows (SNP validation, TDX acceptance).
    let platform: ConversionPlatform?
    /// Where the runner enforces private memory itself: the guest's views, kept in step
    /// with every change of the map.
    let views: GuestViews?
    /// SEV-SNP with the runner's views: the host's mapping of guest RAM, and the frames the guest
    /// was assigned since their content was last defined (RAM the launch did not load, pages a
    /// conversion made private), which read as noise once validated (`MemoryEncryption`).
    private let snpMemory: GuestMemory?
    private let snpUndefined: Mutex<IntervalMap<Bool>>

    init(
        initial: PageStateMap, ram: GPARange, backing: Backing, memoryAttributes: VirtualMachine?,
        platform: ConversionPlatform? = nil, views: GuestViews? = nil, memory: GuestMemory? = nil
    ) throws(KVMError) {
        state = Mutex(initial)
        self.backing = backing
        self.ram = ram
        self.memoryAttributes = memoryAttributes
        self.platform = platform
        self.views = views
        snpMemory = platform == .sevSNP && views != nil ? memory : nil
        var undefined = IntervalMap<Bool>()
        if snpMemory != nil {
            for run in initial.runs where run.page == Page(state: .private, acceptance: .pending) {
                undefined.assign(true, from: run.range.firstFrame, to: UInt64(run.range.endFrame))
            }
        }
        snpUndefined = Mutex(undefined)
        try views?.apply(initial.runs)
    }

    /// What a guest access to `gpa` through the given view meets (`PageStateMap.access`).
    func access(gpa: UInt64, privateView: Bool, isWrite: Bool) -> PageStateMap.AccessOutcome {
        state.withLock { $0.access(gpa: gpa, privateView: privateView, isWrite: isWrite, platform: platform) }
    }

    /// The page states around `gpa`, in words, for a failed run's diagnosis.
    func describeStates(around gpa: UInt64) -> String {
        state.withLock { $0.describe(around: gpa, platform: platform) }
    }

    /// Brings the views in line with the map over `range` (after any change there).
    private func updateViews(_ map: PageStateMap, _ range: GPARange) throws(KVMError) {
        guard let views else { return }
        var failure: KVMError?
        map.forEachRun(in: range) { run in
            guard failure == nil else { return }
            do throws(KVMError) { try views.apply(run) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// A copy of the whole map (for reports at the end of a run; O(n)).
    public var pageStates: PageStateMap { state.withLock { $0 } }

    /// The private/shared state of the page at `gpa`, without copying the map.
    public func state(at gpa: UInt64) -> PageState? { state.withLock { $0.state(at: gpa) } }

    /// The page at `gpa` as the platform model holds it (state and validation/acceptance).
    public func page(at gpa: UInt64) -> Page? { state.withLock { $0.page(at: gpa) } }

    /// Whether KVM itself enforces private memory here (KVM_SET_MEMORY_ATTRIBUTES in use), so
    /// that a mismatched access comes back as KVM_EXIT_MEMORY_FAULT for the host to resolve.
    public var enforcesPrivateMemory: Bool { memoryAttributes != nil }

    public struct Result: Sendable {
        public let outcome: ConversionOutcome
        public let change: PageStateMap.Change
    }

    /// Converts `request` or says why not. Never touches memory outside guest RAM.
    public func convert(_ request: ConversionRequest) -> Result {
        let range = request.range
        guard request.isConvertible(in: ram) else {
            return Result(outcome: .outsideGuestMemory, change: .init())
        }
        let target: PageState = request.direction == .toPrivate ? .private : .shared
        return state.withLock { map in
            // Discard first, then record: a failed discard leaves the map as it was. The
            // map is asked, not copied, so a request costs O(log n) however fragmented it is.
            let change = map.change(setting: range, to: target)
            // The flipped parts are already coalesced: one discard per contiguous run.
            for flipped in change.flipped {
                do {
                    try discard(flipped, becoming: target)
                    if let vm = memoryAttributes {
                        try vm.setMemoryAttributes(address: flipped.start, size: flipped.size, attributes: target == .private ? .private : [])
                    }
                } catch {
                    return Result(outcome: .hostFailure, change: .init())
                }
            }
            map.apply(change, to: target, flippedAcceptance: PageStateMap.flippedAcceptance(to: target, on: platform))
            if snpMemory != nil {
                snpUndefined.withLock { undefined in
                    for flipped in change.flipped { undefined.assign(target == .private ? true : nil, from: flipped.firstFrame, to: UInt64(flipped.endFrame)) }
                }
            }
            do { try updateViews(map, range) } catch { return Result(outcome: .hostFailure, change: change) }
            return Result(outcome: .converted, change: change)
        }
    }

    /// SNP PVALIDATE of the page at `gpa` under the model's rules (`PageStateMap.pvalidate`).
    func pvalidate(gpa: UInt64, pageSize: UInt32, validate: UInt32) -> PageStateMap.PValidateResult {
        state.withLock { map in
            let result = map.pvalidate(gpa: gpa, pageSize: pageSize, validate: validate, ram: ram)
            guard result == .success else { return result }
            if validate == 1, let memory = snpMemory, let views {
                // The first validation since the page was assigned shows what it decrypts to.
                let frame = gpa >> 12
                snpUndefined.withLock { undefined in
                    guard undefined.value(at: frame) == true,
                        memory.withBytes(at: frame << 12, count: 0x1000, { views.encryption.garble($0, at: frame << 12) }) != nil
                    else { return }
                    undefined.assign(nil, from: frame, to: frame + 1)
                }
            }
            try? updateViews(map, GPARange(start: gpa, exactByteCount: 0x1000))
            return result
        }
    }

    /// TDX TDG.MEM.PAGE.ACCEPT (`PageStateMap.accept`). An accepted page reads as zero, as the
    /// TDX module clears it with the TD's key: the host discards the private side's old bytes.
    /// Nil when that discard failed (the page is then left pending).
    func accept(rcx: UInt64, sharedBit: UInt64) -> PageStateMap.AcceptResult? {
        state.withLock { map in
            let result = map.accept(rcx: rcx, sharedBit: sharedBit, ram: ram)
            if case .accepted(let range) = result {
                do {
                    try discard(range, becoming: .shared) // punches the private side
                    try updateViews(map, range)
                } catch {
                    map.assign(Page(state: .private, acceptance: .pending), to: range)
                    return nil
                }
            }
            return result
        }
    }

    private func discard(_ range: GPARange, becoming target: PageState) throws(KVMError) {
        switch backing {
        case .unified(let memfd):
            try memfd.punchHole(offset: range.start, length: range.size)
        case .split(let memfd, let shared):
            if target == .shared {
                try memfd.punchHole(offset: range.start, length: range.size)
            } else {
                try shared.discard(offset: Int(range.start), length: Int(range.size))
            }
        }
    }
}
