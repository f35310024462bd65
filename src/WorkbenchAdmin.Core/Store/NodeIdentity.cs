using System.Net;
using System.Net.Sockets;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Store;

/// <summary>Who a node is, from its configuration root: address, protocol and key hash.</summary>
public sealed record NodeIdentity(string Host, int Port, string? IPv4Address, string Protocol, string KeyHash, bool DeleteNodeOnExit)
{
    public string Address => NodeCandidate.FormatAddress(Host, Port);

    /// <param name="warn">Receives what is wrong but not fatal (an address that does not resolve).</param>
    /// <param name="machine">Whose host name stands in for an unset www-host-name; this machine by default.</param>
    /// <param name="cancel">Ends the wait for the name lookup.</param>
    public static NodeIdentity FromConfig(ConfigRoot root, Action<string>? warn = null, Machine? machine = null, CancellationToken cancel = default)
    {
        var rserver = RServerConfig.Load(root);
        var lb = LoadBalancerConfig.Load(root);
        var parsed = NodeAddress.Of(rserver, lb, machine ?? Machine.Local).Parse();
        var key = SecureCookieKey.Locate(root, rserver);
        if (key.Hash is null)
            throw new WbException("SecureCookieKeyMissing", WbErrorCategory.ObjectNotFound,
                $"No secure-cookie-key for '{root.Path}' (searched {string.Join(", ", key.Searched)}); every node of a cluster needs the same key (mode 600).", root.Path);
        var ipv4 = parsed.IPv4Address ?? Resolve(parsed.Host, warn, cancel);
        return new NodeIdentity(parsed.Host, parsed.Port, ipv4, rserver.Protocol, key.Hash, lb.DeleteNodeOnExit);
    }

    /// <summary>The host's first IPv4 address, looked up with a bound on time; null (with a warning) when it has none.</summary>
    internal static string? Resolve(string host, Action<string>? warn, CancellationToken cancel)
    {
        var lookup = HostLookup.IPv4(host, cancel);
        var ipv4 = lookup.Addresses.FirstOrDefault(a => IPAddress.TryParse(a, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork);
        if (ipv4 is null)
            warn?.Invoke($"{lookup.Problem ?? $"'{host}' has no IPv4 address here"}: its IPv4 address is not recorded, and other nodes may not reach it either. Set www-host-name to a name or address they can resolve.");
        return ipv4;
    }
}

/// <summary>What a heartbeat reports, read from the machine (or given, in tests).</summary>
public sealed record NodeReport
{
    public double Load1 { get; init; }
    public double Load5 { get; init; }
    public double Load15 { get; init; }
    public int Cores { get; init; } = Environment.ProcessorCount;
    /// <summary>The node's clock, read by the store right before it writes the heartbeat, so the skew it records is not inflated by the work before.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    public string? Version { get; init; }
    /// <summary>Whether rserver answered on its HTTP port: a node whose rserver does not is recorded Offline.</summary>
    public bool Serving { get; init; } = true;

    public const string LoadAveragePath = "/proc/loadavg";
    public const string VersionPath = "/usr/lib/rstudio-server/VERSION";

    /// <summary>This machine's load averages (/proc/loadavg), cores, clock and Workbench version.</summary>
    public static NodeReport FromMachine(TimeProvider? time = null, string loadAveragePath = LoadAveragePath, string versionPath = VersionPath)
    {
        string text;
        try { text = File.ReadAllText(loadAveragePath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WbException("LoadAverageUnreadable", WbErrorCategory.ReadError, $"Cannot read the load averages in {loadAveragePath}: {e.Message}", loadAveragePath, e);
        }
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var loads = new double[3];
        for (var i = 0; i < loads.Length; i++)
            if (i >= fields.Length || !double.TryParse(fields[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out loads[i]))
                throw new WbException("LoadAverageUnreadable", WbErrorCategory.ReadError,
                    $"{loadAveragePath} does not start with three load averages: '{SafeText.Quote(text)}'", loadAveragePath);
        return new NodeReport
        {
            Load1 = loads[0],
            Load5 = loads[1],
            Load15 = loads[2],
            Cores = Environment.ProcessorCount,
            Clock = time ?? TimeProvider.System,
            Version = File.Exists(versionPath) ? File.ReadAllText(versionPath).Trim() : null,
        };
    }
}
