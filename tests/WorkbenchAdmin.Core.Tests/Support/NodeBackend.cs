using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>
/// A stand-in Workbench node on a loopback port: HTTP/1.1 (keep-alive) answering with its address in
/// X-Workbench-Node and its body, and a real websocket endpoint (RFC 6455 handshake, masked client frames,
/// echoes text and binary, answers ping and close).
/// </summary>
public sealed class NodeBackend : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();

    public NodeBackend()
    {
        _listener = Loopback.Listen();
        Port = Loopback.PortOf(_listener);
        _ = WorkbenchAdmin.Testing.AcceptLoop.Run(_listener, Serve, _stop.Token);
    }

    public int Port { get; }
    public string Address => $"127.0.0.1:{Port}";
    /// <summary>The request heads this node received (for header checks).</summary>
    public List<string> Requests { get; } = [];

    private async Task Serve(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var head = await ReadHead(stream);
                if (head is null) return;
                lock (Requests) Requests.Add(head);
                var lines = head.Split("\r\n");
                var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
                    .GroupBy(p => p[0].Trim(), StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Last()[1].Trim(), StringComparer.OrdinalIgnoreCase);
                if (headers.TryGetValue("Content-Length", out var cl) && int.TryParse(cl, out var length) && length > 0)
                    await stream.ReadExactlyAsync(new byte[length], _stop.Token);
                if (headers.TryGetValue("Upgrade", out var upgrade) && upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase)
                    && headers.TryGetValue("Sec-WebSocket-Key", out var key))
                {
                    var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
                    await Send(stream, $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nX-Workbench-Node: {Address}\r\n\r\n");
                    await Echo(stream);
                    return;
                }
                var body = Encoding.UTF8.GetBytes($"node {Address}\n");
                var close = headers.TryGetValue("Connection", out var c) && c.Equals("close", StringComparison.OrdinalIgnoreCase) || lines[0].EndsWith("HTTP/1.0", StringComparison.Ordinal);
                await Send(stream, $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nX-Workbench-Node: {Address}\r\n{(close ? "Connection: close\r\n" : "")}\r\n");
                await stream.WriteAsync(body, _stop.Token);
                if (close) return;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private static async Task<string?> ReadHead(NetworkStream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one) != 1) return null;
            head.Append((char)one[0]);
        }
        return head.ToString();
    }

    private async Task Send(NetworkStream stream, string text) => await stream.WriteAsync(Encoding.ASCII.GetBytes(text), _stop.Token);

    /// <summary>Frames from the client (always masked) echoed back unmasked, until close.</summary>
    private async Task Echo(NetworkStream stream)
    {
        var header = new byte[2];
        while (true)
        {
            await stream.ReadExactlyAsync(header, _stop.Token);
            var opcode = header[0] & 0x0F;
            if ((header[1] & 0x80) == 0) return; // a client frame must be masked (RFC 6455 §5.1)
            long length = header[1] & 0x7F;
            if (length == 126) { var l = new byte[2]; await stream.ReadExactlyAsync(l, _stop.Token); length = (l[0] << 8) | l[1]; }
            else if (length == 127) { var l = new byte[8]; await stream.ReadExactlyAsync(l, _stop.Token); length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(l); }
            var mask = new byte[4];
            await stream.ReadExactlyAsync(mask, _stop.Token);
            var payload = new byte[length];
            await stream.ReadExactlyAsync(payload, _stop.Token);
            for (var i = 0; i < payload.Length; i++) payload[i] ^= mask[i % 4];
            var reply = opcode switch { 1 or 2 => opcode, 9 => 10, 8 => 8, _ => -1 };
            if (reply < 0) continue;
            var frame = new List<byte> { (byte)(0x80 | reply) };
            if (payload.Length < 126) frame.Add((byte)payload.Length);
            else { frame.Add(126); frame.Add((byte)(payload.Length >> 8)); frame.Add((byte)payload.Length); }
            frame.AddRange(payload);
            await stream.WriteAsync(frame.ToArray(), _stop.Token);
            if (opcode == 8) return;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
