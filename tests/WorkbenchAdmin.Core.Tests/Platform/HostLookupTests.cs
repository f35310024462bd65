using System.Net;
using System.Net.Sockets;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Tests.Platform;

public class HostLookupTests
{
    /// <summary>
    /// Found on the network-namespace cluster: for the machine's own host name .NET answers with every interface's
    /// address, IPv6 link-local ones included, although only IPv4 was asked for; network.www-host-name then said a
    /// node "resolves to 169.254.47.12, fe80::…%2".
    /// </summary>
    [Fact]
    public void OnlyIPv4AddressesComeBackEvenForThisMachinesOwnName()
    {
        var lookup = HostLookup.IPv4(Dns.GetHostName(), CancellationToken.None);
        Assert.All(lookup.Addresses, a => Assert.Equal(AddressFamily.InterNetwork, IPAddress.Parse(a).AddressFamily));
    }
}
