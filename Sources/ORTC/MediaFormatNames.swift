import MediaFormat

// The media vocabulary lives in MediaFormat (a leaf target); ORTC speaks it in its own API.
public typealias MediaKind = MediaFormat.MediaKind
public typealias MediaCodec = MediaFormat.MediaCodec
public typealias MimeType = MediaFormat.MimeType
