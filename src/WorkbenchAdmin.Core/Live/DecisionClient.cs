using System.Net.Sockets;
using System.Text;
using WorkbenchAdmin.Core.Platform;

using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Core.Live;

/// <summary>What the decision service answered: the program's exit code, its one line out, and what it said on stderr.</summary>
public sealed record ServiceAnswer(int ExitCode, string Output, string Error);

/// <summary>
/// The wire format between the balancer program and its decision service, one exchange per connection.
/// Request: <c>wbadmin-balancer/1</c>, the user and RSTUDIO_NODES, one line each, then end of stream.
/// Answer: the exit code, the line the program prints (empty when it prints none), then its stderr, to end of stream.
/// A ping (the version line alone) is answered <see cref="Ready"/> and decides nothing.
/// </summary>
public static class DecisionProtocol
{
    public const string Version = "wbadmin-balancer/1";
    /// <summary>Larger than any real request or answer (RSTUDIO_NODES of a thousand nodes is about 40 KB).</summary>
    public const int MaxMessageBytes = 256 * 1024;

    // RawText throughout: an entry that is not UTF-8 reaches the service, and comes back, byte for byte.
    public static byte[] Request(string user, string nodes) => RawText.Encode($"{Version}\n{user}\n{nodes}\n");

    public static ReadOnlyMemory<byte> Ping { get; } = Encoding.UTF8.GetBytes($"{Version}\n");
    public const string Ready = "ready";

    public static bool IsPing(ReadOnlySpan<byte> message) => message.SequenceEqual(Ping.Span);

    /// <summary>The user and node list of a request, or null when it is not one.</summary>
    public static (string User, string Nodes)? ParseRequest(ReadOnlySpan<byte> message)
    {
        var lines = RawText.Decode(message).Split('\n');
        if (lines is not [Version, var user, var nodes, ""]) return null;
        return (user, nodes);
    }

    public static byte[] Answer(int exitCode, string output, string error) =>
        RawText.Encode($"{exitCode}\n{output.TrimEnd('\n')}\n{error}");

    public static ServiceAnswer? ParseAnswer(ReadOnlySpan<byte> message)
    {
        var text = RawText.Decode(message);
        var first = text.IndexOf('\n');
        var second = first < 0 ? -1 : text.IndexOf('\n', first + 1);
        if (second < 0 || !int.TryParse(text.AsSpan(0, first), System.Globalization.NumberStyles.None, null, out var code)) return null;
        return new ServiceAnswer(code, text[(first + 1)..second], text[(second + 1)..]);
    }

    /// <summary>Reads until the other end closes its side, refusing more than <see cref="MaxMessageBytes"/>.</summary>
    internal static async Task<byte[]?> ReadToEnd(Socket socket, CancellationToken cancel)
    {
        var buffer = new byte[4096];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length >= MaxMessageBytes) return null;
                Array.Resize(ref buffer, Math.Min(buffer.Length * 4, MaxMessageBytes));
            }
            var read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancel).ConfigureAwait(false);
            if (read == 0) return buffer[..length];
            length += read;
        }
    }
}

/// <summary>
/// The program's side: asks the decision service at the policy's socket, if one is there. A socket that others
/// could have planted (its owner, or a directory on its way that others can change) is never asked: whoever
/// answers there chooses every user's node. An answer is used only when it is one the program could have
/// given itself (an entry of RSTUDIO_NODES exactly, or a refusal); anything else, and no answer in time, is a
/// problem to report, and the program decides itself.
/// </summary>
public static class DecisionClient
{
    /// <summary>
    /// Whether a decision service answers at <paramref name="socketPath"/> (a ping, which decides nothing): null when
    /// nothing is there, false when something is but does not answer as the service does within <paramref name="wait"/>.
    /// </summary>
    public static bool? IsAnswering(string socketPath, TimeSpan wait)
    {
        UnixFileStatus? status;
        try { status = UnixFile.TryStat(socketPath, followLinks: false); }
        catch (IOException) { return false; }
        if (status is null) return null;
        if (status.Value.Type != UnixFileType.Socket) return false;
        try
        {
            var message = Exchange(socketPath, DecisionProtocol.Ping, wait);
            return message is not null && DecisionProtocol.ParseAnswer(message) is { ExitCode: 0, Output: DecisionProtocol.Ready };
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return false;
        }
    }

    /// <summary>The service's metrics text (<see cref="DecisionMetrics"/>), or null when nothing at <paramref name="socketPath"/> gives them within <paramref name="wait"/>.</summary>
    public static string? Metrics(string socketPath, TimeSpan wait)
    {
        try
        {
            if (UnixFile.TryStat(socketPath, followLinks: false) is not { Type: UnixFileType.Socket }) return null;
            var message = Exchange(socketPath, DecisionMetrics.Request, wait);
            return message is not null && DecisionProtocol.ParseAnswer(message) is { ExitCode: 0, Output: DecisionMetrics.Ready } answer ? answer.Error : null;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
        {
            return null;
        }
    }

    /// <summary>One exchange: connect, send <paramref name="request"/>, read the answer to its end, all within <paramref name="wait"/>.</summary>
    internal static byte[]? Exchange(string socketPath, ReadOnlyMemory<byte> request, TimeSpan wait)
    {
        using var cancel = new CancellationTokenSource(wait);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel.Token).AsTask().GetAwaiter().GetResult();
        socket.SendAsync(request, SocketFlags.None, cancel.Token).AsTask().GetAwaiter().GetResult();
        socket.Shutdown(SocketShutdown.Send);
        return DecisionProtocol.ReadToEnd(socket, cancel.Token).GetAwaiter().GetResult();
    }

    /// <summary>The service's answer, or null with the reason in <paramref name="problem"/> (null too when no service is deployed).</summary>
    public static ServiceAnswer? Ask(string socketPath, string user, string nodes, IReadOnlyList<string> entries, TimeSpan wait, out string? problem)
    {
        problem = null;
        UnixFileStatus? status;
        try { status = UnixFile.TryStat(socketPath, followLinks: false); }
        catch (IOException e) { problem = $"the decision service's socket cannot be read: {e.Message}"; return null; }
        if (status is null) return null; // no service on this node: the program decides, as without one
        if (status.Value.Type != UnixFileType.Socket)
        {
            problem = $"{socketPath} is not a socket: the decision service was not asked";
            return null;
        }
        if (TrustedPath.WhyUntrusted(socketPath) is { } why)
        {
            problem = $"the decision service was not asked: {why}";
            return null;
        }
        // The request is line-based; such values cannot be sent, and the program refuses them itself.
        if (user.AsSpan().IndexOfAny('\n', '\0') >= 0 || nodes.AsSpan().IndexOfAny('\n', '\0') >= 0) return null;

        byte[]? message;
        try
        {
            message = Exchange(socketPath, DecisionProtocol.Request(user, nodes), wait);
        }
        catch (OperationCanceledException)
        {
            problem = $"the decision service at {socketPath} did not answer within {wait.TotalMilliseconds:0} ms";
            return null;
        }
        catch (SocketException e)
        {
            problem = $"the decision service at {socketPath} could not be asked: {e.Message}";
            return null;
        }
        var answer = message is null ? null : DecisionProtocol.ParseAnswer(message);
        var valid = answer switch
        {
            null => false,
            { ExitCode: 0 } => entries.Contains(answer.Output, StringComparer.Ordinal),
            { ExitCode: BalancerProgram.CannotChoose or BalancerProgram.BadInvocation } => answer.Output.Length == 0,
            _ => false,
        };
        if (valid) return answer;
        problem = $"the decision service at {socketPath} gave an answer that is not a decision";
        return null;
    }
}
