// Adam (Kingma & Ba) on a fixed list of parameters, written out so that its whole state (moments and step count)
// is plain tensors that checkpoints save and restore exactly.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TemporalSae.Training;

public sealed class AdamState : IDisposable
{
    const double Epsilon = 1e-8;

    readonly (string Name, Parameter Parameter)[] parameters;
    readonly Tensor[] firstMoments, secondMoments;
    readonly double beta1, beta2;

    public AdamState(IEnumerable<(string Name, Parameter Parameter)> named, double beta1, double beta2)
    {
        parameters = named.ToArray();
        firstMoments = parameters.Select(p => torch.zeros_like(p.Parameter)).ToArray();
        secondMoments = parameters.Select(p => torch.zeros_like(p.Parameter)).ToArray();
        this.beta1 = beta1;
        this.beta2 = beta2;
    }

    /// <summary>Optimiser steps taken so far (for the bias corrections).</summary>
    public long Steps { get; private set; }

    public IEnumerable<Parameter> Parameters => parameters.Select(p => p.Parameter);

    public void Step(double learningRate)
    {
        Steps++;
        double correction1 = 1 - Math.Pow(beta1, Steps);
        double correction2 = 1 - Math.Pow(beta2, Steps);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < parameters.Length; i++)
        {
            // Parameter.grad hands out a new handle on every call; dispose it here rather than leave it to the GC.
            using Tensor? grad = parameters[i].Parameter.grad;
            if (grad is null) continue;
            firstMoments[i].mul_(beta1).add_(grad, alpha: 1 - beta1);
            secondMoments[i].mul_(beta2).addcmul_(grad, grad, value: 1 - beta2);
            using Tensor denominator = secondMoments[i].sqrt().div_(Math.Sqrt(correction2)).add_(Epsilon);
            parameters[i].Parameter.addcdiv_(firstMoments[i], denominator, value: -learningRate / correction1);
        }
    }

    /// <summary>The state as named tensors (moments keyed by parameter name), for a checkpoint.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateTensors()
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            yield return KeyValuePair.Create($"adam.m.{parameters[i].Name}", firstMoments[i]);
            yield return KeyValuePair.Create($"adam.v.{parameters[i].Name}", secondMoments[i]);
        }
    }

    public void Restore(Func<string, Tensor> load, long steps)
    {
        using var noGrad = torch.no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            using var m = load($"adam.m.{parameters[i].Name}");
            using var v = load($"adam.v.{parameters[i].Name}");
            firstMoments[i].copy_(m);
            secondMoments[i].copy_(v);
        }
        Steps = steps;
    }

    public void Dispose()
    {
        foreach (var t in firstMoments.Concat(secondMoments)) t.Dispose();
    }
}
