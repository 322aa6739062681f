import GuestPhysical

/// The `NAME.plan.json` document and `build --json` output: everything the host needs to know
/// about an image without reading its ELF. Addresses are `0x…` strings so no JSON reader
/// rounds them.
public struct PlanDocument: Codable, Sendable, Equatable {
    public struct Range: Codable, Sendable, Equatable {
        public let name: String
        public let start: String
        public let end: String
        public let size: UInt64
        public let kind: PlanRange.Kind
        public let state: PlanRange.State
    }

    public struct Site: Codable, Sendable, Equatable {
        public let name: String
        public let gpa: String
    }

    public struct Segment: Codable, Sendable, Equatable {
        public let gpa: String
        public let fileSize: UInt64
        public let memorySize: UInt64
    }

    public let name: String
    public let layout: Layout
    public let entry: String
    public let pageTableRoot: String
    public let sites: [Site]
    public let segments: [Segment]
    public let ranges: [Range]

    public init(_ image: Image) {
        name = image.name
        layout = image.layout
        entry = hex(image.entry)
        pageTableRoot = hex(image.pageTableRoot)
        sites = image.sites.map { Site(name: $0.name, gpa: hex($0.address)) }
        segments = image.segments.map { Segment(gpa: hex($0.address), fileSize: UInt64($0.bytes.count), memorySize: $0.memorySize) }
        ranges = image.plan.ranges.map {
            Range(name: $0.name, start: hex($0.range.start), end: hex($0.range.end), size: $0.range.size, kind: $0.kind, state: $0.state)
        }
    }
}
