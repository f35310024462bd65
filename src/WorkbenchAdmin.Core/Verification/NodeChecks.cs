using System.Globalization;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Verification;

/// <summary>What the per-node checks look at: one configuration root, read once.</summary>
public sealed class NodeContext(ConfigRoot root, Machine machine, string? homeRoot, CancellationToken cancellation = default)
{
    private RServerConfig? _rserver;
    private LoadBalancerConfig? _lb;
    private DatabaseConfig? _db;

    public ConfigRoot Root { get; } = root;
    public Machine Machine { get; } = machine;
    public string? HomeRoot { get; } = homeRoot;
    /// <summary>The command's stop signal, for the checks that wait (a name lookup).</summary>
    public CancellationToken Cancellation { get; } = cancellation;
    public string Target => Root.Path;
    public RServerConfig RServer => _rserver ??= RServerConfig.Load(Root);
    public LoadBalancerConfig LoadBalancer => _lb ??= LoadBalancerConfig.Load(Root);
    public DatabaseConfig Database => _db ??= DatabaseConfig.Load(Root, RServer);
}

/// <summary>Checks of one node's configuration and files, from its configuration root.</summary>
internal static class NodeChecks
{
    /// <summary>This class's checks: each id (defined in <see cref="CheckCatalog"/>) with its implementation below.</summary>
    public static IEnumerable<Check> All =>
    [
        Check.Node("config.lb-enabled", LoadBalancingEnabled),
        Check.Node("config.lb-file", LoadBalancerFile),
        Check.Node("config.launcher-address", LauncherAddress),
        Check.Node("config.rserver-options", RServerOptionsKnown),
        Check.Node("storage.shared-path", SharedStoragePath),
        Check.Node("storage.shared-owner", SharedOwner),
        Check.Node("storage.home-owner", HomeOwner),
        Check.Node("database.provider", DatabaseProvider),
        Check.Node("security.database-conf-mode", DatabaseConfMode),
        Check.Node("security.key-mode", SecureCookieKeyMode),
        Check.Node("security.plain-password", PlainTextPassword),
        Check.Node("network.www-host-name", WwwHostName),
        Check.Node("network.port-range", PortRange),
    ];

    private const UnixFileMode Mode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static IEnumerable<CheckResult> LoadBalancingEnabled(CheckDefinition c, NodeContext n)
    {
        var path = n.Root.PathOf(ConfigFiles.RServer);
        yield return n.LoadBalancer.State(n.RServer) switch
        {
            LoadBalancingState.Enabled => c.Pass(n.Target, $"load-balancing-enabled=1 in {path}"),
            LoadBalancingState.LegacyFileOnly => c.Warn(n.Target, $"enabled only by the presence of {n.Root.PathOf(ConfigFiles.LoadBalancer)} (legacy)",
                "load-balancing-enabled=1", $"Set load-balancing-enabled=1 in {path} (Set-WbBalancer does)."),
            _ => c.Fail(n.Target, $"load-balancing-enabled is {(n.RServer.LoadBalancingEnabled == false ? "0" : "unset")} in {path}",
                "load-balancing-enabled=1", $"Set load-balancing-enabled=1 in {path} and restart rstudio-server."),
        };
    }

    public static IEnumerable<CheckResult> LoadBalancerFile(CheckDefinition c, NodeContext n)
    {
        var path = n.Root.PathOf(ConfigFiles.LoadBalancer);
        if (n.LoadBalancer.LegacyForm)
        {
            yield return c.Warn(n.Target, $"{path} is in the pre-2021.09 form ([config] or [nodes]; balancer={n.LoadBalancer.Method})", "the current form: balancer= and www-host-name= before any section",
                $"Set-WbBalancer -ConfigRoot {n.Root.Path} migrates it (add -WhatIf to see the change first), then restart rstudio-server.");
            yield break;
        }
        yield return n.LoadBalancer.FilePresent
            ? c.Pass(n.Target, $"{path} is present (balancer={n.LoadBalancer.Method})")
            : c.Fail(n.Target, $"{path} is missing: the node runs alone", "a load-balancer file",
                $"Create {path} with balancer= and www-host-name= (Set-WbBalancer -Method sessions -WwwHostName <address>).");
    }

    public static IEnumerable<CheckResult> SharedStoragePath(CheckDefinition c, NodeContext n)
    {
        var conf = n.Root.PathOf(ConfigFiles.RServer);
        var path = n.RServer.ServerSharedStoragePath;
        if (path is null)
        {
            yield return c.Fail(n.Target, $"server-shared-storage-path is not set in {conf}", "a directory on shared storage",
                $"Set server-shared-storage-path in {conf} to a directory on the NFS mount (for example /nfs/workbench/shared-storage).");
            yield break;
        }
        if (!Directory.Exists(path))
        {
            yield return c.Fail(n.Target, $"server-shared-storage-path={path} ({conf}) does not exist on this node", "an existing directory on shared storage",
                $"Mount the shared storage and create {path}, or correct server-shared-storage-path in {conf}.");
            yield break;
        }
        var fs = n.Machine.NetworkFileSystem(path);
        yield return fs is not null
            ? c.Pass(n.Target, $"{path} is on {fs}")
            : c.Fail(n.Target, $"{path} (server-shared-storage-path in {conf}) is on a local file system", "shared storage (NFS or similar)",
                $"Mount the cluster's shared storage at {path} on every node (see the guide's fstab lines).");
    }

    public static IEnumerable<CheckResult> LauncherAddress(CheckDefinition c, NodeContext n)
    {
        var path = n.Root.PathOf(ConfigFiles.Launcher);
        // The launcher listens where [server] says; the [cluster] sections (any number) say where jobs run, not this.
        var launcher = LauncherConfig.Load(n.Root);
        var local = launcher.Address is "localhost" or "::1" || launcher.Address.StartsWith("127.", StringComparison.Ordinal);
        yield return !local
            ? c.Pass(n.Target, $"address={launcher.Address} in [server] of {path}")
            : c.Fail(n.Target, launcher.FilePresent ? $"address={launcher.Address} in [server] of {path}" : $"{path} is missing, so the launcher listens on localhost",
                "an address other nodes reach (0.0.0.0)", $"Set address=0.0.0.0 in the [server] section of {path} and restart rstudio-launcher.");
    }

    public static IEnumerable<CheckResult> RServerOptionsKnown(CheckDefinition c, NodeContext n)
    {
        var path = n.Root.PathOf(ConfigFiles.RServer);
        var doc = n.Root.TryLoad(ConfigFiles.RServer);
        if (doc is null)
        {
            yield return c.Skip(n.Target, $"{path} does not exist: no option to check");
            yield break;
        }
        var count = 0;
        var unknown = 0;
        foreach (var line in doc.Entries.Where(l => l.Kind == ConfigLineKind.Entry))
        {
            count++;
            // boost makes [a] a prefix: a key under it is the option "a.key".
            var option = line.OptionName!;
            if (RServerOptions.Find(option) is not null) continue;
            unknown++;
            var nearest = RServerOptions.Nearest(option);
            var shown = ConfigFormatException.NameOrNull(option) ?? "(an option whose name is not printable)";
            // Our list of Workbench-only options is partial: an option not in it may still be one Workbench knows, so never a Fail.
            yield return c.Warn(n.Target,
                $"{shown} ({path}:{line.Number}) is not a documented rserver.conf option{(nearest is null ? "" : $": did you mean {nearest}?")}",
                "only options Workbench documents (rserver refuses to start on an unrecognised option)",
                nearest is null
                    ? $"Remove it from {path}, or check its spelling against the rserver.conf reference; run 'rstudio-server verify-installation' to see whether rserver accepts it."
                    : $"Replace {shown} with {nearest} in {path} (or remove it), then restart rstudio-server.");
        }
        if (unknown == 0)
            yield return c.Pass(n.Target, $"{count} option{(count == 1 ? "" : "s")} in {path}, each a documented one");
    }

    public static IEnumerable<CheckResult> DatabaseProvider(CheckDefinition c, NodeContext n)
    {
        var db = n.Database;
        if (db.IsPostgres)
        {
            yield return c.Pass(n.Target, $"provider=postgresql in {db.FilePath}");
            yield break;
        }
        var directory = db.SqliteDirectory ?? ConfigRoot.DefaultStateDirectory;
        var onNfs = Directory.Exists(directory) && n.Machine.NetworkFileSystem(directory) is not null;
        yield return c.Fail(n.Target,
            onNfs ? $"provider=sqlite with its database on network storage ({directory}): SQLite corrupts on NFS and cannot serve a cluster"
                  : $"provider={db.Provider}{(db.FilePresent ? "" : $" (default: {db.FilePath} is missing)")}",
            "provider=postgresql", $"Create an empty PostgreSQL database and set provider=postgresql, host, database, username and password in {db.FilePath}.");
    }

    public static IEnumerable<CheckResult> DatabaseConfMode(CheckDefinition c, NodeContext n) =>
        [RootOwned600(c, n, n.Database.FilePath, "database.conf holds the database password")];

    public static IEnumerable<CheckResult> SecureCookieKeyMode(CheckDefinition c, NodeContext n)
    {
        var key = SecureCookieKey.Locate(n.Root, n.RServer);
        if (key.Path is null)
        {
            yield return c.Fail(n.Target, $"no secure-cookie-key (searched {string.Join(", ", key.Searched)})", "the cluster's key, mode 600",
                $"Copy the cluster's secure-cookie-key to {n.Root.PathOf(ConfigFiles.SecureCookieKey)}, owned by root with mode 600.");
            yield break;
        }
        yield return RootOwned600(c, n, key.Path, "the secure-cookie-key signs every sign-in");
    }

    private static CheckResult RootOwned600(CheckDefinition c, NodeContext n, string path, string why)
    {
        var status = n.Machine.Stat(path);
        if (status is null)
            return c.Fail(n.Target, $"{path} does not exist", "root-owned, mode 600", $"Create {path} (root:root, mode 600).");
        var mode = Convert.ToString((int)status.Value.Mode, 8).PadLeft(3, '0');
        var owner = n.Machine.UserName(status.Value.Uid) ?? status.Value.Uid.ToString(CultureInfo.InvariantCulture);
        return status.Value.Uid == 0 && status.Value.Mode == Mode600
            ? c.Pass(n.Target, $"{path} is owned by root with mode 600")
            : c.Fail(n.Target, $"{path} is owned by {owner} with mode {mode}; {why}", "owner root, mode 600",
                $"chown root:root {path} && chmod 600 {path}");
    }

    public static IEnumerable<CheckResult> PlainTextPassword(CheckDefinition c, NodeContext n)
    {
        var db = n.Database;
        // A password in connection-uri is plain text whatever password= holds (Workbench hands the URI to
        // libpq as written; password= only wins over it). Checked first, on its own (issue 11, point 11).
        if (db.ConnectionUri?.Password is not null)
        {
            yield return c.Warn(n.Target, $"connection-uri in {db.FilePath} holds a password in plain text", "no password in connection-uri",
                "Protect-WbDatabasePassword -Apply encrypts it into password= and takes it out of connection-uri.");
            yield break;
        }
        if (db.Password is null)
            yield return c.Pass(n.Target, $"no password in {db.FilePath} (certificate or trust authentication)");
        else
            yield return JudgePassword(c, n.Target, $"the password in {db.FilePath} ({db.PasswordSource})", db.Password.Reveal());
    }

    /// <summary>A Pass only for what an encryption we know recognisably writes; a look-alike is a Warn that says so.</summary>
    internal static CheckResult JudgePassword(CheckDefinition c, string target, string what, string password) => PasswordForms.Classify(password) switch
    {
        PasswordForm.WorkbenchAdminEncrypted => c.Pass(target, $"{what} is encrypted (Protect-WbDatabasePassword, {PasswordProtector.Prefix})"),
        PasswordForm.WorkbenchEncrypted => c.Pass(target, $"{what} is encrypted (rstudio-server encrypt-password, with the key hash)"),
        PasswordForm.LooksEncrypted => c.Warn(target,
            $"{what} looks like base64 ciphertext, but nothing shows it is encrypted: a random or base64-encoded password looks the same",
            "an encrypted password in a form that shows it", "Encrypt it again: rstudio-server encrypt-password (current versions embed the key hash), or Protect-WbDatabasePassword -Apply."),
        _ => c.Warn(target, $"{what} is plain text", "an encrypted password", "Encrypt it: rstudio-server encrypt-password, or Protect-WbDatabasePassword -Apply."),
    };

    public static IEnumerable<CheckResult> WwwHostName(CheckDefinition c, NodeContext n)
    {
        var lbPath = n.Root.PathOf(ConfigFiles.LoadBalancer);
        var node = NodeAddress.Of(n.RServer, n.LoadBalancer, n.Machine);
        var address = node.Text;
        var host = node.Parse().Host;
        if (host is "localhost" || host.StartsWith("127.", StringComparison.Ordinal) || host == "::1")
        {
            yield return c.Fail(n.Target, $"www-host-name resolves to this machine only ({address})", "an address other nodes reach",
                $"Set www-host-name in {lbPath} to this node's name or IP as the other nodes reach it.");
            yield break;
        }
        var addresses = n.Machine.Resolve(host, n.Cancellation);
        if (addresses.Count == 0)
        {
            yield return c.Fail(n.Target, $"'{host}' ({(!node.IsConfigured ? "the host name, as www-host-name is unset" : $"www-host-name in {lbPath}")}) does not resolve",
                "a resolvable host name or an IP address", $"Set www-host-name in {lbPath} to a fully qualified name or an IP address every node resolves.");
            yield break;
        }
        var isIp = System.Net.IPAddress.TryParse(host, out _);
        if (!node.IsConfigured)
            yield return c.Warn(n.Target, $"www-host-name is unset; other nodes will use {address}", "www-host-name set explicitly",
                $"Set www-host-name={address} (or the name other nodes use) in {lbPath} before the node joins.");
        else if (!isIp && !host.Contains('.'))
            yield return c.Warn(n.Target, $"www-host-name '{host}' is a short host name (resolves here to {addresses[0]})", "a fully qualified name or an IP",
                $"Use a fully qualified name or an IP address in {lbPath}: a short name may not resolve on the other nodes.");
        else
            yield return c.Pass(n.Target, $"{address} resolves to {string.Join(", ", addresses)}");
    }

    public static IEnumerable<CheckResult> HomeOwner(CheckDefinition c, NodeContext n)
    {
        if (n.HomeRoot is null)
        {
            yield return c.Skip(n.Target, "no home root given (-HomeRoot, or homeRoot in the cluster spec)");
            yield break;
        }
        yield return Owner(c, n, n.HomeRoot, "root", "root", "the users' home directories");
    }

    public static IEnumerable<CheckResult> SharedOwner(CheckDefinition c, NodeContext n)
    {
        if (n.RServer.ServerSharedStoragePath is not { } path || !Directory.Exists(path))
        {
            yield return c.Skip(n.Target, "server-shared-storage-path is unset or missing (see storage.shared-path)");
            yield break;
        }
        // Not chown -R: the heartbeat's markers directory in it must stay root's (see below).
        var owner = Owner(c, n, path, "nobody", "nogroup", "the shared storage", recursive: false);
        // The heartbeat (root) uses its markers directory there only when no one else can change it.
        if (NodeFingerprint.MarkerDirectoryProblem(path) is not { } markers)
        {
            yield return owner;
            yield break;
        }
        if (owner.Status != CheckStatus.Pass) yield return owner;
        yield return c.Fail(n.Target, markers.Found, $"{Path.Combine(path, NodeFingerprint.MarkerDirectory)}: a directory only {UnixFile.TrustedOwners} can change", markers.Fix);
    }

    private static CheckResult Owner(CheckDefinition c, NodeContext n, string path, string user, string group, string what, bool recursive = true)
    {
        var status = n.Machine.Stat(path);
        if (status is null) return c.Fail(n.Target, $"{path} does not exist", $"{user}:{group}", $"Create {path} on the shared storage.");
        var owner = $"{n.Machine.UserName(status.Value.Uid) ?? status.Value.Uid.ToString(CultureInfo.InvariantCulture)}:{n.Machine.GroupName(status.Value.Gid) ?? status.Value.Gid.ToString(CultureInfo.InvariantCulture)}";
        return owner == $"{user}:{group}"
            ? c.Pass(n.Target, $"{path} ({what}) is owned by {owner}")
            : c.Fail(n.Target, $"{path} ({what}) is owned by {owner}", $"{user}:{group}", $"chown {(recursive ? "-R " : "")}{user}:{group} {path}");
    }

    private static string? ReadOrNull(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    public static IEnumerable<CheckResult> PortRange(CheckDefinition c, NodeContext n)
    {
        var text = ReadOrNull(n.Machine.PortRangePath);
        if (text is null)
        {
            yield return c.Skip(n.Target, $"{n.Machine.PortRangePath} cannot be read on this machine");
            yield break;
        }
        var parts = text.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
        var range = parts.Length == 2 ? $"{parts[0]}-{parts[1]}" : text;
        yield return c.Pass(n.Target, $"ephemeral ports {range} ({n.Machine.PortRangePath})", $"TCP {range} open between nodes",
            $"Open TCP {range}, {n.RServer.WwwPort} and the launcher port between the nodes (Local Launcher sessions use the ephemeral range).");
    }
}
