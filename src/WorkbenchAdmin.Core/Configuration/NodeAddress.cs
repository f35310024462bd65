using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Configuration;

/// <summary>
/// Where the other nodes reach this one: www-host-name in load-balancer as written, or else this machine's host
/// name with rserver.conf's www-port. A configured name without a port is reached on www-port.
/// </summary>
public sealed class NodeAddress
{
    private readonly int _wwwPort;

    private NodeAddress(string text, bool configured, int wwwPort)
    {
        Text = text;
        IsConfigured = configured;
        _wwwPort = wwwPort;
    }

    /// <summary>The effective www-host-name, as Get-WbBalancer shows it.</summary>
    public string Text { get; }
    /// <summary>False when www-host-name is unset and the host name stands in.</summary>
    public bool IsConfigured { get; }

    public static NodeAddress Of(RServerConfig rserver, LoadBalancerConfig lb, Machine machine) =>
        lb.WwwHostName is { } configured ? new(configured, true, rserver.WwwPort) : new($"{machine.HostName()}:{rserver.WwwPort}", false, rserver.WwwPort);

    public static NodeAddress Of(ConfigRoot root, Machine machine) => Of(RServerConfig.Load(root), LoadBalancerConfig.Load(root), machine);

    /// <summary>Host and port (www-port when the text names none); throws InvalidNode when the text is not host[:port].</summary>
    public NodeCandidate Parse() => NodeCandidate.Parse(Text.Contains(':') || Text.StartsWith('[') ? Text : $"{Text}:{_wwwPort}");
}
