using System.Net;
using System.Net.Sockets;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>The result of a name lookup: the addresses, or why there are none.</summary>
public sealed record HostAddresses(IReadOnlyList<string> Addresses, string? Problem);

/// <summary>IPv4 name lookups bounded in time, so a dead resolver never hangs a command.</summary>
public static class HostLookup
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <summary>A literal address as itself; a name's IPv4 addresses, or none with the reason.</summary>
    public static HostAddresses IPv4(string host, CancellationToken cancel)
    {
        if (IPAddress.TryParse(host, out var literal)) return new([literal.ToString()], null);
        try
        {
            var lookup = Dns.GetHostAddressesAsync(host, AddressFamily.InterNetwork);
            if (!lookup.Wait(Timeout, cancel)) return new([], $"looking up '{host}' took more than {Timeout.TotalSeconds:0} s");
            // Filtered again: for this machine's own host name .NET adds every interface's address, IPv6 ones
            // included, whatever family was asked for (seen on a node whose www-host-name is its host name).
            var addresses = lookup.Result.Where(a => a.AddressFamily == AddressFamily.InterNetwork).Select(a => a.ToString()).ToList();
            return new(addresses, addresses.Count == 0 ? $"'{host}' has no IPv4 address here" : null);
        }
        catch (AggregateException e)
        {
            return new([], $"'{host}' does not resolve from this host ({e.InnerException?.Message ?? e.Message})");
        }
    }
}
