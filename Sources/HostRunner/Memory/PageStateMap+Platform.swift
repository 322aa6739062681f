import GuestPhysical
import Payload

/// The platform rules over the page-state model: what SEV-SNP's PVALIDATE, TDX's
/// TDG.MEM.PAGE.ACCEPT and a guest's memory access meet, page by page. Pure: the runner applies
/// the outcomes (implicit conversions through the conversion service, zeroing, faults).
/// Every rule with its public source: docs/platform-model.md §1–§3.
extension PageStateMap {
    /// How a conversion leaves the pages it flips on `platform`: to private, guest-owned but
    /// not validated (SNP) / PENDING after KVM's AUG (TDX); to shared, nothing for the guest.
    public static func flippedAcceptance(to state: PageState, on platform: ConversionPlatform?) -> GuestAcceptance {
        switch (state, platform) {
        case (.private, .sevSNP?), (.private, .tdx?): .pending
        default: .notApplicable
        }
    }

    // MARK: - SEV-SNP PVALIDATE

    /// PVALIDATE's architectural results (RAX, and CF for "no update").
    public enum PValidateResult: Sendable, Equatable {
        /// RAX 0, CF 0: the Validated bit changed.
        case success
        /// RAX 0, CF 1: it already had the requested value (Linux and OVMF treat this as fatal).
        case noUpdate
        /// RAX 1 (FAIL_INPUT).
        case failInput
        /// RAX 6 (FAIL_SIZEMISMATCH): a 2 MiB request over 4 KiB RMP entries.
        case sizeMismatch
        /// The page is hypervisor-owned: the RMP check raises #NPF, which KVM turns into an
        /// implicit conversion to private (KVM_EXIT_MEMORY_FAULT) before the guest retries.
        case hypervisorOwned(GPARange)
        /// The GPA is not guest RAM at all.
        case outsideMemory

        public var rax: UInt64 {
            switch self {
            case .failInput: 1
            case .sizeMismatch: 6
            default: 0
            }
        }

        public var carry: Bool { self == .noUpdate }
    }

    /// PVALIDATE of the page at `gpa` (translated from the guest's rAX), ECX = `pageSize`
    /// (0 = 4 KiB, 1 = 2 MiB), EDX = `validate` (1 validate, 0 rescind), as
    /// `PValidateOperands` reads them. Applies the change.
    ///
    /// Input rules: ECX or EDX other than 0/1 and an address not aligned to the page size
    /// are FAIL_INPUT (1); the public callers only ever pass 0/1 and aligned addresses, and
    /// whether the hardware ignores ECX/EDX bits 31:1 instead is not in any public source we
    /// found (docs/interfaces.md, "PVALIDATE operands"). A 2 MiB request always meets 4 KiB
    /// RMP entries here (see `Page`), hence FAIL_SIZEMISMATCH (6), as Linux's and OVMF's
    /// fallback to 512 × 4 KiB expects.
    public mutating func pvalidate(gpa: UInt64, pageSize: UInt32, validate: UInt32, ram: GPARange) -> PValidateResult {
        guard pageSize <= 1, validate <= 1 else { return .failInput }
        let size: UInt64 = pageSize == 1 ? 2 << 20 : GPARange.frameSize
        guard gpa & (size - 1) == 0 else { return .failInput }
        let range = GPARange(start: gpa, exactByteCount: size)
        guard ram.contains(range) else { return .outsideMemory }
        if pageSize == 1 { return .sizeMismatch }
        guard let page = page(at: gpa), page.state == .private else { return .hypervisorOwned(range) }
        let target: GuestAcceptance = validate == 1 ? .accepted : .pending
        guard page.acceptance != target else { return .noUpdate }
        assign(Page(state: .private, acceptance: target), to: range)
        return .success
    }

    // MARK: - TDX TDG.MEM.PAGE.ACCEPT

    /// TDG.MEM.PAGE.ACCEPT's outcomes (tdx-module 1.5 tdg_mem_page_accept.c).
    public enum AcceptResult: Sendable, Equatable {
        /// TDX_SUCCESS: the page was PENDING; it is MAPPED now and reads as zero.
        case accepted(GPARange)
        /// TDX_PAGE_ALREADY_ACCEPTED + level (a warning, bit 63 clear).
        case alreadyAccepted(level: UInt64)
        /// TDX_PAGE_SIZE_MISMATCH + level: a 2 MiB request over 4 KiB Secure-EPT leaves.
        case sizeMismatch(level: UInt64)
        /// TDX_OPERAND_INVALID + RCX: bad level, reserved bits, misaligned, shared or beyond GPAW.
        case operandInvalid
        /// The page is not in the Secure EPT (shared in KVM's attributes): the module exits to
        /// KVM with an EPT violation, which becomes KVM_EXIT_MEMORY_FAULT (private) and an
        /// implicit conversion; KVM AUGs the page and the TDCALL runs again.
        case notPrivate(GPARange)
        /// The GPA is not guest RAM at all.
        case outsideMemory

        public static let success: UInt64 = 0
        public static let alreadyAcceptedBase: UInt64 = 0x0000_0B0A_0000_0000
        public static let sizeMismatchBase: UInt64 = 0xC000_0B0B_0000_0000
        /// TDX_OPERAND_INVALID (0xC000010000000000) + OPERAND_ID_RCX (1).
        public static let operandInvalidRCX: UInt64 = 0xC000_0100_0000_0001

        /// RAX as the TDX module returns it (nil where the TDCALL does not return).
        public var rax: UInt64? {
            switch self {
            case .accepted: Self.success
            case .alreadyAccepted(let level): Self.alreadyAcceptedBase + level
            case .sizeMismatch(let level): Self.sizeMismatchBase + level
            case .operandInvalid: Self.operandInvalidRCX
            case .notPrivate, .outsideMemory: nil
            }
        }
    }

    /// TDG.MEM.PAGE.ACCEPT with RCX = GPA | level (bits 2:0; 0 = 4 KiB, 1 = 2 MiB; 1 GiB is
    /// refused by module 1.5), under a TD whose shared bit is `sharedBit`. Applies the change.
    public mutating func accept(rcx: UInt64, sharedBit: UInt64, ram: GPARange) -> AcceptResult {
        let level = rcx & 0x7
        let reserved: UInt64 = 0xFF8 // RCX bits 11:3
        guard level <= 1, rcx & reserved == 0 else { return .operandInvalid }
        let gpa = rcx & ~UInt64(0xFFF)
        let size: UInt64 = level == 1 ? 2 << 20 : GPARange.frameSize
        // check_gpa_validity(PRIVATE_ONLY): no shared bit, nothing at or above GPAW.
        guard gpa & (size - 1) == 0, gpa & sharedBit == 0, gpa < sharedBit << 1 else { return .operandInvalid }
        let range = GPARange(start: gpa, exactByteCount: size)
        guard ram.contains(range) else { return .outsideMemory }
        let first = GPARange(start: gpa, exactByteCount: GPARange.frameSize)
        guard let page = page(at: gpa), page.state == .private else { return .notPrivate(first) }
        // KVM maps TD private memory at 4 KiB only: a 2 MiB ACCEPT's walk ends at a non-leaf
        // entry (Case 3, SIZE_MISMATCH) whatever the pages' states.
        if level == 1 { return .sizeMismatch(level: level) }
        guard page.acceptance != .accepted else { return .alreadyAccepted(level: level) }
        assign(Page(state: .private, acceptance: .accepted), to: first)
        return .accepted(first)
    }

    // MARK: - Guest accesses

    /// What a guest access to the page at `gpa` meets, by the view it uses (SNP: C-bit set;
    /// TDX: shared bit clear means the private view).
    public enum AccessOutcome: Sendable, Equatable {
        case allowed
        /// SEV-SNP: a C=0 data read of a guest-owned page. The RMP checks no C=0 read (AMD APM
        /// vol. 2 table 15-39: C=0 data *writes* meet the Hypervisor-Owned check, reads
        /// nothing), so it completes, without an exit on hardware, and reads the page's
        /// ciphertext: bytes that are not what the guest wrote through C=1.
        case ciphertextRead
        /// The view does not match the page's state: KVM_EXIT_MEMORY_FAULT, resolved by the
        /// VMM converting exactly that 4 KiB page (destructively); the access then retries.
        case implicitConversion(GPARange, to: PageState)
        /// A private-view access to a private page the guest has not validated/accepted:
        /// SNP #VC with error code 0x404; TDX #VE (SEPT_VE_DISABLE clear) or TD exit.
        case notAccepted
        case outsideMemory
    }

    /// TDX: the shared EPT maps no private page and the Secure EPT no shared one, so either
    /// mismatch is an EPT violation, read or write. SEV-SNP (APM table 15-39): C=1 accesses meet
    /// the full RMP checks (Guest-Owned, then Validated: #VC 0x404); C=0 writes the
    /// Hypervisor-Owned check; C=0 reads none.
    public func access(gpa: UInt64, privateView: Bool, isWrite: Bool, platform: ConversionPlatform?) -> AccessOutcome {
        let pageRange = GPARange(start: gpa & ~(GPARange.frameSize - 1), exactByteCount: GPARange.frameSize)
        guard let page = page(at: gpa) else { return .outsideMemory }
        switch (page.state, privateView) {
        case (.shared, false):
            return .allowed
        case (.private, true):
            return page.acceptance == .pending && platform != .kvm ? .notAccepted : .allowed
        case (.shared, true):
            return .implicitConversion(pageRange, to: .private)
        case (.private, false):
            return platform == .sevSNP && !isWrite ? .ciphertextRead : .implicitConversion(pageRange, to: .shared)
        }
    }

    /// The state a guest starts in (docs/platform-model.md §1.2): RAM private and, on
    /// SNP/TDX, not validated/accepted; what the plan populates (measured, unmeasured, zero)
    /// validated by SNP_LAUNCH_UPDATE / accepted by TDH.MEM.PAGE.ADD; plan ranges that start
    /// shared hypervisor-owned.
    public static func launchState(ram: GPARange, plan: [PlanRange], platform: ConversionPlatform?) -> PageStateMap {
        var map = PageStateMap()
        map.assign(Page(state: .private, acceptance: flippedAcceptance(to: .private, on: platform)), to: ram)
        for entry in plan where ram.contains(entry.range) {
            let shared = entry.state == .shared
            let acceptance: GuestAcceptance = shared || platform == .kvm || platform == nil ? .notApplicable : .accepted
            map.assign(Page(state: shared ? .shared : .private, acceptance: acceptance), to: entry.range)
        }
        return map
    }
}
