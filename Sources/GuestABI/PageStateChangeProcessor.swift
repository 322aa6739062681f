import GuestPhysical

/// Carries out a PSC descriptor the way KVM's `snp_begin_psc` / `snp_complete_psc`
/// (arch/x86/kvm/svm/sev.c) do, asking the host for each merged run.
///
/// The algorithm, per pass:
/// 1. `end_entry >= 253` → INVALID_HDR.
/// 2. From `cur_entry`, skip finished entries, advancing `cur_entry` past each. An
///    entry with `cur_page` beyond its size, or a 2 MiB entry whose gfn is not
///    512-aligned → INVALID_ENTRY. A partly done 2 MiB entry continues as 4 KiB
///    pages from `gfn + cur_page`.
/// 3. Following entries join the run while operation and page size match, the gfn
///    continues the run and `cur_page` is 0.
/// 4. Private/shared runs become one `ConversionRequest`; PSMASH/UNSMASH runs are
///    done without one. A failure answers ERROR_GENERIC and stops.
/// 5. Each entry of the run gets `cur_page` = 512 or 1 and `cur_entry` moves past it.
///
/// Two deliberate differences from that KVM snapshot, both about a partly done
/// 2 MiB entry starting a run: KVM tests contiguity against the entry's original
/// gfn (so a following entry overlapping the 2 MiB range can merge and the request
/// would name the wrong pages) and labels the run PAGE_SZ_2M. We test against the
/// run's real end and label it 4K, so a request never leaves the pages its entries
/// name. For well-formed descriptors the requests are identical.
public struct PageStateChangeProcessor: Sendable {
    public var policy: PageStateChangePolicy

    public init(policy: PageStateChangePolicy = .strict) {
        self.policy = policy
    }

    /// Processes the descriptor at `offset` in `page`, editing `cur_page` and
    /// `cur_entry` in place as KVM does in the guest's buffer.
    ///
    /// `offset` must leave room for the 8-byte header inside the shared buffer
    /// (`GHCBExitDecoder` checks this). Entries must fit before the end of the shared
    /// buffer: a header whose `end_entry` points past it is INVALID_HDR, which for a
    /// buffer at 0x800 is exactly KVM's `end_entry >= 253`.
    public func process(
        _ page: inout GHCBPage, descriptorOffset offset: Int,
        host: (ConversionRequest) -> ConversionOutcome
    ) -> PageStateChangeResult {
        let capacity =
            (GHCBLayout.sharedBufferEnd - offset - PageStateChangeDescriptor.headerSize)
            / PageStateChangeDescriptor.entrySize
        precondition(offset >= GHCBLayout.sharedBufferOffset && capacity >= 0, "descriptor header outside the shared buffer")

        while true {
            let start = Int(page.load(UInt16.self, at: offset))
            let end = Int(page.load(UInt16.self, at: offset + 2))
            guard end < PageStateChangeDescriptor.maximumEntryCount, end < capacity else {
                return .invalidHeader
            }

            var index = start
            var run: (entry: PageStateChangeEntry, gfn: UInt64, pageCount: UInt64, is2M: Bool)?
            while index <= end {
                let entry = readEntry(page, offset, index)
                guard isWellFormed(entry) else { return .invalidEntry(index: index) }
                let done = UInt64(entry.curPage)
                if entry.pageCount > done {
                    run = (entry, entry.gfn + done, entry.pageCount - done, entry.is2M && done == 0)
                    break
                }
                index += 1
                page.store(UInt16(index), at: offset)
            }
            guard var current = run else { return .completed }

            let first = index
            index += 1
            while index <= end {
                let next = readEntry(page, offset, index)
                guard next.rawOperation == current.entry.rawOperation,
                    next.gfn == current.gfn + current.pageCount,
                    next.curPage == 0,
                    next.is2M == current.is2M,
                    !(policy.rejectsReservedEntryBits && next.reservedBits != 0)
                else { break }
                current.pageCount += next.pageCount
                index += 1
            }

            if let direction = Self.direction(of: current.entry) {
                // Frame numbers are 40 bits and a run at most 253 * 512 pages long.
                let range = GPARange(firstFrame: current.gfn, pageCount: current.pageCount)
                let request = ConversionRequest(
                    range: range, direction: direction, pageSize: current.is2M ? .size2M : .size4K, origin: .ghcbPSC)
                let outcome = host(request)
                guard outcome.succeeded else { return .hostFailed(outcome) }
            }

            for done in first..<index {
                var entry = readEntry(page, offset, done)
                entry.curPage = UInt16(entry.pageCount)
                page.store(entry.rawValue, at: PageStateChangeDescriptor.entryOffset(done, base: offset))
            }
            page.store(UInt16(index), at: offset)
        }
    }

    private func readEntry(_ page: GHCBPage, _ offset: Int, _ index: Int) -> PageStateChangeEntry {
        PageStateChangeEntry(rawValue: page.load(UInt64.self, at: PageStateChangeDescriptor.entryOffset(index, base: offset)))
    }

    private func isWellFormed(_ entry: PageStateChangeEntry) -> Bool {
        guard UInt64(entry.curPage) <= entry.pageCount, entry.gfn % entry.pageCount == 0 else { return false }
        if policy.rejectsReservedEntryBits, entry.reservedBits != 0 { return false }
        if policy.unknownOperation == .invalidEntry, entry.operation == nil { return false }
        return true
    }

    private static func direction(of entry: PageStateChangeEntry) -> ConversionDirection? {
        switch entry.operation {
        case .makePrivate: .toPrivate
        case .makeShared: .toShared
        case .psmash, .unsmash, nil: nil
        }
    }
}
