using System.Globalization;

namespace WorkbenchAdmin.Model;

/// <summary>
/// A node as the balancer sees it. Settable properties let PowerShell build one from a hashtable or a
/// piped object; <see cref="Parse"/> lets it bind a plain <c>host:port</c> string.
/// </summary>
public sealed class NodeCandidate
{
    private string? _hostEntry;
    private string? _ipEntry;

    private string _host = "";
    private string? _ipv4;
    private int _port = 8787;

    public int Id { get; set; }
    public string Host { get => _host; set { _host = value ?? ""; _hostEntry = null; } }
    public string? IPv4Address { get => _ipv4; set { _ipv4 = value; _ipEntry = null; } }
    public int Port { get => _port; set { _port = value; _hostEntry = _ipEntry = null; } }
    public bool Online { get; set; } = true;
    /// <summary>Drained for maintenance: keeps its sessions, takes no new ones.</summary>
    public bool Draining { get; set; }
    public int ActiveSessions { get; set; }
    public double Load1 { get; set; }
    public double Load5 { get; set; }
    public double Load15 { get; set; }
    /// <summary>CPU cores; null when unknown (system-load cannot judge such a node).</summary>
    public int? Cores { get; set; }

    /// <summary>This node's entry in RSTUDIO_NODES: <c>host:port</c>, or <c>ip:port</c> with the IP-address option.</summary>
    public string NodesEntry(bool useIpAddress)
    {
        if (!useIpAddress) return _hostEntry ??= Join(Host, Port);
        if (string.IsNullOrEmpty(IPv4Address))
            throw new WbException("NodeHasNoIPAddress", WbErrorCategory.InvalidData,
                $"Node '{Join(Host, Port)}' has no IPv4 address, so it cannot be listed by address (balancer-use-ip-address).", this);
        return _ipEntry ??= Join(IPv4Address, Port);
    }

    /// <summary>The 5-minute load per core that system-load compares; null when cores are unknown.</summary>
    public double? LoadPerCore => Cores is > 0 ? Load5 / Cores.Value : null;

    /// <summary><c>host:port</c>, with an IPv6 host in brackets.</summary>
    public static string FormatAddress(string host, int port) => Join(host, port);

    private static string Join(string host, int port) =>
        (host.Contains(':') ? $"[{host}]" : host) + ":" + port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses <c>host</c>, <c>host:port</c>, <c>ip:port</c> or <c>[ipv6]:port</c> (port 8787 when absent).</summary>
    public static NodeCandidate Parse(string text)
    {
        var value = text?.Trim() ?? "";
        string host;
        var port = 8787;
        string? portText = null;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']');
            host = close > 1 ? value[1..close] : "";
            var rest = close > 0 ? value[(close + 1)..] : "x";
            if (rest.StartsWith(':')) portText = rest[1..];
            else if (rest.Length > 0) host = "";
        }
        else
        {
            var colon = value.LastIndexOf(':');
            host = colon >= 0 ? value[..colon] : value;
            if (colon >= 0) portText = value[(colon + 1)..];
        }
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
            host = "";
        if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || c is ',' or '/' or '@'))
            throw new WbException("InvalidNode", WbErrorCategory.InvalidArgument,
                $"-Node '{SafeText.Quote(value)}' is not host:port (for example node1.example.com:8787).", text);
        var isIPv4 = System.Net.IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
        return new NodeCandidate { Host = host, Port = port, IPv4Address = isIPv4 ? host : null };
    }

    public override string ToString() => NodesEntry(false);
}
