using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Verification;

/// <summary>
/// What a node publishes with its heartbeat so that the cross-node checks can compare nodes without
/// reaching them: a hash of each configuration file with the per-node address keys left out, its key
/// hash, protocol and version, a digest of the users it sees, its shared-storage path, the marker it wrote
/// there and the markers of other nodes it could read.
/// </summary>
public sealed record NodeFingerprint
{
    public const string MarkerDirectory = ".workbenchadmin-markers";

    /// <summary>File name → hash of its entries (address keys removed); every regular file of the root.</summary>
    public Dictionary<string, string> ConfigHashes { get; init; } = [];
    /// <summary>
    /// File name → each setting's place (<c>[section name] key</c>, a repeated section by its name, e.g.
    /// <c>[cluster Local] type</c>) → a hash of its value(s), for the files read as settings; so a difference is named
    /// down to the key without any value leaving the node. Absent in fingerprints of earlier versions.
    /// </summary>
    public Dictionary<string, Dictionary<string, string>>? ConfigEntries { get; init; }
    public string? KeyHash { get; init; }
    public string? Protocol { get; init; }
    public string? Version { get; init; }
    /// <summary>SHA-256 of the sorted "name:uid:gid" of regular users (uid 1000 to 65533).</summary>
    public string? UsersDigest { get; init; }
    public string? SharedStoragePath { get; init; }
    /// <summary>The marker this node keeps in shared storage; null when it could not write one.</summary>
    public string? Marker { get; init; }
    public string? MarkerError { get; init; }
    /// <summary>How to fix <see cref="MarkerError"/>, when this node knows better than "mount the shared storage".</summary>
    public string? MarkerFix { get; init; }
    /// <summary>Node address → the marker this node read for it in shared storage.</summary>
    public Dictionary<string, string> MarkersSeen { get; init; } = [];

    public string ToJson() => JsonSerializer.Serialize(this);
    public static NodeFingerprint FromJson(string json) => JsonSerializer.Deserialize<NodeFingerprint>(json) ?? new NodeFingerprint();

    public static NodeFingerprint Compute(ConfigRoot root, string address, string? version, Machine? machine = null)
    {
        machine ??= Machine.Local;
        var rserver = RServerConfig.Load(root);
        var key = SecureCookieKey.Locate(root, rserver);
        var shared = rserver.ServerSharedStoragePath is { } configured ? machine.LocalPath(configured) : null;
        var (marker, markerError, markerFix, seen) = ExchangeMarkers(shared, address);
        var (hashes, entries) = ReadConfigFiles(root);
        return new NodeFingerprint
        {
            ConfigHashes = hashes,
            ConfigEntries = entries,
            KeyHash = key.Hash,
            Protocol = rserver.Protocol,
            Version = version,
            UsersDigest = DigestUsers(machine.PasswdPath),
            SharedStoragePath = rserver.ServerSharedStoragePath,
            Marker = marker,
            MarkerError = markerError,
            MarkerFix = markerFix,
            MarkersSeen = seen,
        };
    }

    internal static Dictionary<string, string> HashConfigFiles(ConfigRoot root) => ReadConfigFiles(root).Hashes;

    internal static (Dictionary<string, string> Hashes, Dictionary<string, Dictionary<string, string>> Entries) ReadConfigFiles(ConfigRoot root)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        if (!Directory.Exists(root.Path)) return (hashes, entries);
        var roles = ConfigFileRoles.Of(root); // never the secure-cookie-key, wherever rserver.conf puts it
        foreach (var path in Directory.EnumerateFiles(root.Path).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (!roles.IsConfiguration(name)) continue;
            var bytes = File.ReadAllBytes(path);
            var settings = Settings(bytes, path, roles.KindOf(name), roles.DialectOf(name));
            if (settings is null)
            {
                hashes[name] = Hash(bytes);
                continue;
            }
            entries[name] = settings;
            hashes[name] = Hash(Encoding.UTF8.GetBytes(string.Concat(settings.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}\n"))));
        }
        return (hashes, entries);
    }

    /// <summary>
    /// A file's settings as Workbench reads them, each place → a hash of its value(s); null for a file that is not
    /// read as settings (or does not parse), which is compared byte for byte. Comments, white space and order do not
    /// count: sections that repeat are told apart by their name (launcher.conf's clusters), so two nodes whose
    /// clusters stand in another order agree. The node's own address keys (the guide's exception) are left out.
    /// </summary>
    internal static Dictionary<string, string>? Settings(byte[] bytes, string path, ConfigFileKind kind, ConfigDialect dialect)
    {
        if (!kind.IsRead) return null;
        ConfigDocument doc;
        try { doc = ConfigDocument.Parse(bytes, path, dialect); }
        catch (ConfigFormatException) { return null; }
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var section in doc.Sections())
        {
            var instance = kind.InstanceOf(doc, section);
            var label = section.Name is null && instance is null ? "" : $"[{string.Join(" ", new[] { section.Name, instance }.Where(p => p is not null))}] ";
            foreach (var line in section.Entries)
            {
                if (section.Name is null && line.Kind == ConfigLineKind.Entry && kind.AddressKeys.Contains(line.Key!)) continue;
                var place = label + line.Key;
                if (!values.TryGetValue(place, out var list)) values[place] = list = [];
                list.Add(line.Kind == ConfigLineKind.Entry ? "=" + line.Value : "(listed)");
            }
        }
        return values.ToDictionary(v => v.Key, v => Hash(Encoding.UTF8.GetBytes(string.Join("\n", v.Value))), StringComparer.Ordinal);
    }

    internal static string? DigestUsers(string passwdPath)
    {
        if (!File.Exists(passwdPath)) return null;
        var users = File.ReadLines(passwdPath)
            .Select(l => l.Split(':'))
            .Where(f => f.Length > 3 && uint.TryParse(f[2], out var uid) && uid is >= 1000 and < 65534)
            .Select(f => $"{f[0]}:{f[2]}:{f[3]}")
            .Order(StringComparer.Ordinal);
        return Hash(Encoding.UTF8.GetBytes(string.Join("\n", users)));
    }

    /// <summary>A marker file holds 32 lower-case hex digits and a newline, and nothing else.</summary>
    private const int MarkerSize = 33;

    /// <summary>
    /// Writes (or keeps) this node's marker in shared storage and reads every other node's. Every user can
    /// write to shared storage, and the heartbeat runs as root: the markers directory is used only when no
    /// one else can change it, and only through its descriptor (see <see cref="VerifiedDirectory"/>), so a
    /// planted link never makes root read a file into the fingerprint or create or overwrite one elsewhere.
    /// </summary>
    private static (string? Marker, string? Error, string? Fix, Dictionary<string, string> Seen) ExchangeMarkers(string? sharedPath, string address)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(sharedPath)) return (null, "server-shared-storage-path is not set", null, seen);
        // Never create the shared path itself: on a node whose mount is missing that would put a local
        // directory where the shared storage belongs.
        if (!Directory.Exists(sharedPath)) return (null, $"server-shared-storage-path {sharedPath} does not exist on this node (is the shared storage mounted?)", null, seen);
        var path = Path.Combine(sharedPath, MarkerDirectory);
        VerifiedDirectory directory;
        try
        {
            directory = VerifiedDirectory.Open(sharedPath, MarkerDirectory, create: true)!;
        }
        catch (UnsafeDirectoryException e)
        {
            var problem = Refusal(e);
            return (null, problem.Found, problem.Fix, seen);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot write a marker in '{path}': {e.Message}", null, seen);
        }
        using (directory)
        {
            string? marker = null;
            string? error = null;
            try
            {
                var mine = MarkerFileName(address);
                marker = ParseMarker(directory.ReadRegularFile(mine, MarkerSize));
                if (marker is null)
                {
                    marker = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
                    directory.Replace(mine, Encoding.ASCII.GetBytes(marker + "\n"), AtomicFile.DefaultMode);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error = $"cannot write a marker in '{path}': {e.Message}";
                marker = null;
            }
            try
            {
                foreach (var name in directory.Names().Where(IsMarkerFileName))
                    if (ParseMarker(directory.ReadRegularFile(name, MarkerSize)) is { } theirs) seen[AddressOfMarker(name)] = theirs;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error ??= $"cannot read the markers in '{path}': {e.Message}";
            }
            return (marker, error, null, seen);
        }
    }

    /// <summary>What is wrong with the markers directory under <paramref name="sharedPath"/> and how to fix it; null when nothing is (or it does not exist yet).</summary>
    internal static (string Found, string Fix)? MarkerDirectoryProblem(string sharedPath)
    {
        try
        {
            VerifiedDirectory.Open(sharedPath, MarkerDirectory, create: false)?.Dispose();
            return null;
        }
        catch (UnsafeDirectoryException e)
        {
            return Refusal(e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // not a safety problem; the heartbeat reports what it cannot write
        }
    }

    private static (string Found, string Fix) Refusal(UnsafeDirectoryException e)
    {
        var owner = UnixFile.EffectiveUserId == 0 ? "root" : $"uid {UnixFile.EffectiveUserId}";
        var found = $"{e.Message}: the heartbeat neither reads nor writes markers there (whoever can change it could make it read or overwrite other files)";
        var fix = e.IsLink
            ? $"Remove the link (rm {e.Path}); the next heartbeat creates the directory, owned by {owner} and writable only by it."
            : $"Remove it (rm -r {e.Path}); the next heartbeat recreates it, owned by {owner} and writable only by it. A chown -R of the shared storage must leave it to {owner}.";
        return (found, fix);
    }

    /// <summary>The marker in a file's content, or null unless it is exactly what a node writes.</summary>
    private static string? ParseMarker(byte[]? content)
    {
        if (content is not { Length: MarkerSize } || content[^1] != (byte)'\n') return null;
        foreach (var b in content.AsSpan(0, MarkerSize - 1))
            if (b is not ((>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f'))) return null;
        return Encoding.ASCII.GetString(content, 0, MarkerSize - 1);
    }

    /// <summary>A name <see cref="MarkerFileName"/> can give: no leftovers of ours (dot files) and nothing else.</summary>
    private static bool IsMarkerFileName(string name) =>
        name.Length is > 0 and <= 255 && name[0] != '.' && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '-' or '_' or '[' or ']');

    internal static string MarkerFileName(string address) => address.Replace(':', '_').Replace('/', '_');
    private static string AddressOfMarker(string fileName)
    {
        var i = fileName.LastIndexOf('_');
        return i < 0 ? fileName : fileName[..i] + ":" + fileName[(i + 1)..];
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
}
